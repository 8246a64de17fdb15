"use client";

import { Suspense, useCallback, useEffect, useMemo, useRef, useState } from "react";
import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { ApiProblem } from "@/api/client";
import { useExplore } from "@/api/explore";
import { TrackPrices } from "@/components/TrackPrices";
import { ExchangeRateNote } from "@/components/ExchangeRateNote";
import { LabelBadge } from "@/components/PriceInsight";
import { labelKey, usePriceLabels, type PriceInsight } from "@/api/prices";
import { useNamedPlaceField, usePlace, usePlaceName } from "@/api/places";
import { useCurrency } from "@/api/currency";
import { useBookable } from "@/api/operations";
import { usePreferences } from "@/api/account";
import { addDays, formatDay, formatDuration, formatMoney, localTime, stopsText } from "@/lib/format";
import { placeCode } from "@/lib/validation";
import { emptyForm, toQuery } from "@/lib/searchUrl";
import type { ExploreDestination, ExploreQuery, Place } from "@/api/types";
import { PlaceInput } from "@/components/PlaceInput";
import { WorldMap } from "@/components/WorldMap";
import { Alert, FieldError, buttonClass, inputClass } from "@/components/Field";

/** The day a destination's flight leaves (local). */
const leaves = (d: ExploreDestination) => d.departure.local.slice(0, 10);

function resultsHref(origin: string, d: ExploreDestination) {
  const form = { ...emptyForm(), trip: "oneway" as const, origin, destination: d.airport.code, depart: leaves(d) };
  return `/search/?${toQuery({ form, filters: {}, sort: "best" }).toString()}`;
}

/** The API query of an explore page's address (a page of up to 200, grouped by country). */
function exploreQuery(params: URLSearchParams, currency: string): ExploreQuery {
  const text = (k: string) => params.get(k) || undefined;
  const num = (k: string) => (params.get(k) ? Number(params.get(k)) : undefined);
  const sort = params.get("sort");
  return {
    origin: params.get("origin") ?? "",
    depart_from: text("depart_from"),
    depart_to: text("depart_to"),
    min_hours: num("min_hours"),
    max_hours: num("max_hours"),
    max_price: num("max_price"),
    max_stops: num("max_stops"),
    sort: sort === "duration" ? "duration" : "price",
    // By price, destinations come by country (cheapest country first); by flight time, one
    // list, shortest first.
    group_by: sort === "duration" ? undefined : "country",
    limit: 200,
    currency,
  };
}

function DestinationList({ origin, destinations, labels }: { origin: string; destinations: ExploreDestination[]; labels: Record<string, PriceInsight> }) {
  const label = (d: ExploreDestination) => labels[labelKey({ origin, destination: d.airport.code, departure_date: leaves(d) })]?.label;
  return (
    <ul className="divide-y divide-slate-100">
      {destinations.map((d) => {
        const insight = label(d);
        return (
          <li key={d.airport.code}>
            <Link href={resultsHref(origin, d)} className="flex items-center justify-between gap-2 py-2 hover:bg-slate-50 focus-visible:outline focus-visible:outline-2 focus-visible:outline-sky-700" data-testid="explore-destination">
              <span>
                <span className="font-medium">{d.airport.city}</span> <span className="font-mono text-xs text-slate-600">{d.airport.code}</span>
                <span className="block text-xs text-slate-600">
                  {formatDay(leaves(d))} {localTime(d.departure.local)} · <span data-testid="explore-duration">{formatDuration(d.duration_minutes)}</span> ·{" "}
                  {stopsText(d.stops)}
                </span>
              </span>
              <span className="flex flex-col items-end gap-0.5">
                <span className="whitespace-nowrap font-semibold" data-testid="explore-price">
                  {formatMoney(d.price.minor, d.price.currency, { whole: true })}
                </span>
                {insight ? <LabelBadge label={insight} /> : null}
              </span>
            </Link>
          </li>
        );
      })}
    </ul>
  );
}

function Explore() {
  const params = useSearchParams();
  const router = useRouter();
  const bookable = useBookable();
  const prefs = usePreferences();
  const today = bookable.data?.bookable_from ?? "";
  const get = (k: string, dflt = "") => params.get(k) ?? dflt;
  const origin = get("origin");
  const [form, setForm] = useState(() => ({
    origin: get("origin", prefs.data?.home_airport ?? ""),
    depart_from: get("depart_from"),
    depart_to: get("depart_to"),
    min_hours: get("min_hours", String(prefs.data?.trip_hours?.min ?? 2)),
    max_hours: get("max_hours", String(prefs.data?.trip_hours?.max ?? 4)),
    max_price: get("max_price", prefs.data?.budget ? String(prefs.data.budget) : ""),
    max_stops: get("max_stops", "1"),
  }));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const setOrigin = useCallback((update: (v: string) => string) => setForm((f) => ({ ...f, origin: update(f.origin) })), []);
  useNamedPlaceField(form.origin, setOrigin);
  // Preferences load after the first render on a direct visit or a reload: fill what the
  // address does not say, until the traveller edits the form.
  const edited = useRef(false);
  useEffect(() => {
    const p = prefs.data;
    if (!p || edited.current) return;
    setForm((f) => ({
      ...f,
      origin: params.get("origin") ?? p.home_airport ?? f.origin,
      min_hours: params.get("min_hours") ?? (p.trip_hours ? String(p.trip_hours.min) : f.min_hours),
      max_hours: params.get("max_hours") ?? (p.trip_hours ? String(p.trip_hours.max) : f.max_hours),
      max_price: params.get("max_price") ?? (p.budget ? String(p.budget) : f.max_price),
    }));
  }, [prefs.data, params]);
  const sort = get("sort", "price");
  const currency = useCurrency();
  const query = useExplore(origin ? exploreQuery(params, currency) : null);
  const originPlace = usePlace(origin);
  // Each destination's price labelled against its route's typical range — from an airport
  // (prices are kept per airport pair; a city's flights leave from several).
  const toLabel = useMemo(
    () => (query.data?.destinations ?? []).map((d) => ({ origin: query.data!.origin, destination: d.airport.code, departure_date: leaves(d), price: d.price.amount })),
    [query.data],
  );
  const labels = usePriceLabels(toLabel, query.data?.currency ?? currency, originPlace.data?.kind === "airport").data ?? {};
  const problem = query.error instanceof ApiProblem ? query.error : null;
  const fieldError = (f: string) => errors[f] ?? problem?.fieldMessage(f);

  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    const errs: Record<string, string> = {};
    const code = placeCode(form.origin);
    if (!/^[A-Z]{3}$/.test(code)) errs.origin = "Choose an airport or city";
    const lo = Number(form.min_hours);
    const hi = Number(form.max_hours);
    if (!(lo >= 0 && hi > 0 && lo <= hi)) errs.max_hours = "The longest flight time must not be below the shortest";
    if (form.max_price && !(Number(form.max_price) > 0)) errs.max_price = "A positive amount";
    if (form.depart_from && form.depart_to && form.depart_to < form.depart_from) errs.depart_to = "Must not be before the first day";
    setErrors(errs);
    if (Object.keys(errs).length) return;
    const q = new URLSearchParams({ origin: code, min_hours: form.min_hours, max_hours: form.max_hours, max_stops: form.max_stops });
    const from = form.depart_from || today;
    q.set("depart_from", from);
    q.set("depart_to", form.depart_to || addDays(from, 2));
    if (form.max_price) q.set("max_price", form.max_price);
    if (sort !== "price") q.set("sort", sort);
    router.push(`/explore/?${q.toString()}`);
  };
  const setSort = (s: string) => {
    const q = new URLSearchParams(params.toString());
    q.set("sort", s);
    router.replace(`/explore/?${q.toString()}`, { scroll: false });
  };
  const set = (k: keyof typeof form) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) => {
    edited.current = true;
    setForm({ ...form, [k]: e.target.value });
  };
  const data = query.data;
  // An alert watches one airport: from a city, its largest, said before it is tracked.
  const fromCity = originPlace.data?.kind === "city" && originPlace.data.airports.length > 0;
  const watched = fromCity ? (originPlace.data?.airports[0] ?? origin) : (data?.origin ?? origin);
  const watchedName = usePlaceName(watched).label;

  return (
    <div className="space-y-4">
      <h1 className="text-2xl font-bold">Explore: where can I fly?</h1>
      <form onSubmit={submit} noValidate className="grid gap-3 rounded-xl bg-white p-4 ring-1 ring-slate-200 md:grid-cols-4">
        <div className="md:col-span-2">
          <PlaceInput id="ex-origin" label="From" value={form.origin} onChange={(v) => {
              edited.current = true;
              setForm({ ...form, origin: v });
            }} error={fieldError("origin")} />
        </div>
        <div>
          <label htmlFor="ex-from" className="block text-sm font-medium text-slate-700">
            Leave from
          </label>
          <input id="ex-from" type="date" className={inputClass} min={bookable.data?.bookable_from} max={bookable.data?.bookable_to} value={form.depart_from} onChange={set("depart_from")} />
        </div>
        <div>
          <label htmlFor="ex-to" className="block text-sm font-medium text-slate-700">
            Leave by
          </label>
          <input id="ex-to" type="date" className={inputClass} min={bookable.data?.bookable_from} max={bookable.data?.bookable_to} value={form.depart_to} onChange={set("depart_to")} aria-describedby={fieldError("depart_to") ? "ex-to-error" : undefined} />
          <FieldError id="ex-to-error" message={fieldError("depart_to")} />
        </div>
        <fieldset className="md:col-span-2">
          <legend className="block text-sm font-medium text-slate-700">
            Flight time: {form.min_hours}–{form.max_hours} h
          </legend>
          <label htmlFor="ex-min-hours" className="sr-only">
            Shortest flight time in hours
          </label>
          <input id="ex-min-hours" type="range" min={0} max={24} step={0.5} value={form.min_hours} onChange={set("min_hours")} className="w-full accent-sky-700" />
          <label htmlFor="ex-max-hours" className="sr-only">
            Longest flight time in hours
          </label>
          <input id="ex-max-hours" type="range" min={0.5} max={24} step={0.5} value={form.max_hours} onChange={set("max_hours")} className="w-full accent-sky-700" aria-describedby={fieldError("max_hours") ? "ex-hours-error" : undefined} />
          <FieldError id="ex-hours-error" message={fieldError("max_hours") ?? fieldError("min_hours")} />
        </fieldset>
        <div>
          <label htmlFor="ex-price" className="block text-sm font-medium text-slate-700">
            Max price ({currency})
          </label>
          <input id="ex-price" type="number" min={1} inputMode="numeric" className={inputClass} value={form.max_price} onChange={set("max_price")} aria-describedby={fieldError("max_price") ? "ex-price-error" : undefined} />
          <FieldError id="ex-price-error" message={fieldError("max_price")} />
        </div>
        <div>
          <label htmlFor="ex-stops" className="block text-sm font-medium text-slate-700">
            Stops
          </label>
          <select id="ex-stops" className={inputClass} value={form.max_stops} onChange={set("max_stops")}>
            <option value="0">Nonstop</option>
            <option value="1">Up to 1 stop</option>
          </select>
        </div>
        <div className="flex items-end md:col-span-4">
          <button type="submit" className={buttonClass}>
            Explore
          </button>
        </div>
      </form>
      {problem && !problem.errors.length ? <Alert>{problem.message}</Alert> : null}
      {origin && query.isPending ? <div className="skeleton h-96" role="status" aria-label="Finding destinations" /> : null}
      {data ? (
        data.total === 0 ? (
          <div role="status" className="rounded-xl bg-white p-6 ring-1 ring-slate-200">
            <h2 className="text-lg font-semibold">Nowhere matches yet</h2>
            <p>Widen the flight-time range, raise the budget, allow a stop, or leave on more days.</p>
          </div>
        ) : (
          <div className="grid gap-4 lg:grid-cols-[3fr_2fr]">
            <WorldMap origin={originPlace.data ?? null} destinations={data.destinations} hrefFor={(d) => resultsHref(data.origin, d)} />
            <section aria-labelledby="ex-list" className="rounded-xl bg-white p-4 ring-1 ring-slate-200">
              <div className="mb-2 flex items-center justify-between gap-2">
                <h2 id="ex-list" className="font-semibold">
                  {data.total} destinations
                  <ExchangeRateNote rate={data.exchange_rate} className="block text-xs font-normal text-slate-700" />
                </h2>
                {params.get("depart_from") ? (
                  <TrackPrices
                    body={{
                      origin: watched,
                      flight_minutes: { min: Number(params.get("min_hours") || 0) * 60, max: Number(params.get("max_hours") || 24) * 60 },
                      dates: { type: "range", from: params.get("depart_from") ?? "", to: params.get("depart_to") || (params.get("depart_from") ?? "") },
                      currency,
                      notify: params.get("max_price") ? { when: "below", amount: params.get("max_price") ?? "" } : { when: "new_low", percent: 5 },
                    }}
                    what={fromCity ? `anywhere from ${watchedName}, ${originPlace.data?.city}'s largest airport, on these dates (an alert watches one airport)` : `anywhere from ${watchedName} on these dates`}
                  />
                ) : null}
                <label className="text-sm">
                  Sort by{" "}
                  <select className="rounded border border-slate-300 px-2 py-1" value={sort} onChange={(e) => setSort(e.target.value)}>
                    <option value="price">price</option>
                    <option value="duration">flight time</option>
                  </select>
                </label>
              </div>
              {/* One scroll box beside the map on a wide screen; on a phone the page scrolls. */}
              <div className="space-y-4 lg:max-h-[32rem] lg:overflow-auto lg:pr-1">
                {data.groups.length ? (
                  data.groups.map((g) => (
                    <section key={g.country} aria-label={g.country_name}>
                      <h3 className="sticky top-0 bg-white py-1 text-sm font-semibold text-slate-800">
                        {g.country_name} · from {formatMoney(g.cheapest.minor, g.cheapest.currency, { whole: true })}
                      </h3>
                      <DestinationList origin={data.origin} destinations={g.destinations} labels={labels} />
                    </section>
                  ))
                ) : (
                  <DestinationList origin={data.origin} destinations={data.destinations} labels={labels} />
                )}
              </div>
            </section>
          </div>
        )
      ) : null}
    </div>
  );
}

export default function ExplorePage() {
  return (
    <Suspense fallback={<div className="skeleton h-40" />}>
      <Explore />
    </Suspense>
  );
}
