"use client";

import { Suspense, useEffect, useMemo, useRef, useState } from "react";
import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { ApiProblem } from "@/api/client";
import { useCalendar } from "@/api/search";
import { useBookable } from "@/api/operations";
import { usePreferences } from "@/api/account";
import { useNamedPlaceField, usePlace } from "@/api/places";
import { labelKey, usePriceLabels } from "@/api/prices";
import { LABEL_CLASS, LABEL_TEXT } from "@/lib/insight";
import { useCurrency } from "@/api/currency";
import { formatDay, formatMoney } from "@/lib/format";
import { ExchangeRateNote } from "@/components/ExchangeRateNote";
import { TrackPrices } from "@/components/TrackPrices";
import { emptyDayLabel, monthOffers, monthsBetween, parseNights, type DayOffer } from "@/lib/calendar";
import { priceColour, PRICE_SCALE } from "@/lib/colour";
import { placeCode } from "@/lib/validation";
import { toQuery, emptyForm } from "@/lib/searchUrl";
import type { CalendarResponse } from "@/api/types";
import { PlaceInput } from "@/components/PlaceInput";
import { Alert, FieldError, buttonClass, inputClass } from "@/components/Field";

const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/** The calendar's nights ("5" or "3..7") as an alert's range; none for one way. */
function nightRange(nights: string): { min: number; max: number } | null {
  const m = /^(\d+)(?:\.\.(\d+))?$/.exec(nights);
  return m ? { min: Number(m[1]), max: Number(m[2] ?? m[1]) } : null;
}

function monthDays(month: string): string[] {
  const [y, m] = month.split("-").map(Number);
  const n = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return Array.from({ length: n }, (_, i) => `${month}-${String(i + 1).padStart(2, "0")}`);
}

function searchHref(origin: string, destination: string, depart: string, ret?: string) {
  const form = { ...emptyForm(), trip: ret ? ("return" as const) : ("oneway" as const), origin, destination, depart, return: ret ?? "" };
  return `/search/?${toQuery({ form, filters: {}, sort: "best" }).toString()}`;
}

function Calendar() {
  const params = useSearchParams();
  const router = useRouter();
  const bookable = useBookable();
  const origin = params.get("origin") ?? "";
  const destination = params.get("destination") ?? "";
  const month = params.get("month") ?? bookable.data?.bookable_from.slice(0, 7) ?? "";
  const nights = parseNights(params.get("nights") ?? "") ?? "";
  const [o, setO] = useState(origin);
  const [d, setD] = useState(destination);
  const [n, setN] = useState(nights);
  const [errors, setErrors] = useState<Record<string, string>>({});
  useNamedPlaceField(o, setO);
  useNamedPlaceField(d, setD);
  // A signed-in traveller's home airport fills an empty origin (also on a direct visit).
  const prefs = usePreferences();
  const home = prefs.data?.home_airport;
  useEffect(() => {
    if (home && !origin) setO((v) => v || home);
  }, [home, origin]);

  const days = useMemo(() => (month ? monthDays(month) : []), [month]);
  const from = days.length && bookable.data ? (days[0] < bookable.data.bookable_from ? bookable.data.bookable_from : days[0]) : "";
  const to = days.length && bookable.data ? (days.at(-1)! > bookable.data.bookable_to ? bookable.data.bookable_to : days.at(-1)!) : "";
  const enabled = !!(origin && destination && from && to && from <= to);
  const currency = useCurrency();
  const q = useCalendar({ origin, destination, from, to, nights: nights || undefined, currency }, enabled);
  const problem = q.error instanceof ApiProblem ? q.error : null;
  const offers = useMemo(() => (q.data ? monthOffers(q.data) : new Map<string, DayOffer>()), [q.data]);
  const prices = [...offers.values()].map((o) => o.price.minor);
  const min = Math.min(...prices);
  const max = Math.max(...prices);
  // One-way days between two airports carry the low / typical / high label of their price
  // (prices are kept per airport pair; a return's price is not a one-way's).
  const originPlace = usePlace(origin);
  const destinationPlace = usePlace(destination);
  const airports = originPlace.data?.kind === "airport" && destinationPlace.data?.kind === "airport";
  const toLabel = useMemo(
    () => (nights ? [] : [...offers.entries()].map(([date, o]) => ({ origin, destination, departure_date: date, price: o.price.amount }))),
    [offers, nights, origin, destination],
  );
  const labels = usePriceLabels(toLabel, q.data?.currency ?? currency, airports).data ?? {};
  const lowest = [...offers.entries()].reduce<[string, DayOffer] | null>((best, e) => (!best || e[1].price.minor < best[1].price.minor ? e : best), null);
  const lead = days.length ? (new Date(`${days[0]}T00:00:00Z`).getUTCDay() + 6) % 7 : 0;
  const months = bookable.data ? monthsBetween(bookable.data.bookable_from, bookable.data.bookable_to) : [];

  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    const oc = placeCode(o);
    const dc = placeCode(d);
    const errs: Record<string, string> = {};
    if (!/^[A-Z]{3}$/.test(oc)) errs.origin = "Choose an airport or city";
    if (!/^[A-Z]{3}$/.test(dc)) errs.destination = "Choose an airport or city";
    else if (oc === dc) errs.destination = "Choose a destination other than the origin";
    const lengths = n.trim() ? parseNights(n) : null;
    if (n.trim() && !lengths) errs.nights = "Nights like 7, or a range like 3-7";
    setErrors(errs);
    if (Object.keys(errs).length) return;
    const p = new URLSearchParams({ origin: oc, destination: dc, month });
    if (lengths) p.set("nights", lengths);
    router.push(`/calendar/?${p.toString()}`);
  };

  return (
    <div className="space-y-4">
      <h1 className="text-2xl font-bold">Price calendar</h1>
      <form onSubmit={submit} noValidate className="grid gap-3 rounded-xl bg-white p-4 ring-1 ring-slate-200 md:grid-cols-2 lg:grid-cols-[1fr_1fr_13rem_11rem_auto]">
        <PlaceInput id="cal-origin" label="From" value={o} onChange={setO} error={errors.origin ?? problem?.fieldMessage("origin")} />
        <PlaceInput id="cal-destination" label="To" value={d} onChange={setD} error={errors.destination ?? problem?.fieldMessage("destination")} />
        <div>
          <label htmlFor="cal-month" className="block text-sm font-medium text-slate-700">
            Month
          </label>
          <select id="cal-month" className={inputClass} value={month} onChange={(e) => router.replace(`/calendar/?${new URLSearchParams({ ...Object.fromEntries(params), month: e.target.value })}`)}>
            {months.map((m) => (
              <option key={m} value={m}>
                {new Intl.DateTimeFormat("en-GB", { month: "long", year: "numeric", timeZone: "UTC" }).format(new Date(`${m}-01T00:00:00Z`))}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="cal-nights" className="block text-sm font-medium text-slate-700">
            Nights (return)
          </label>
          <input id="cal-nights" className={inputClass} placeholder="blank for one way" value={n} onChange={(e) => setN(e.target.value)} aria-describedby={errors.nights || problem?.fieldMessage("nights") ? "cal-nights-error" : undefined} />
          <FieldError id="cal-nights-error" message={errors.nights ?? problem?.fieldMessage("nights")} />
        </div>
        <div className="flex items-end">
          <button type="submit" className={buttonClass}>
            Show prices
          </button>
        </div>
      </form>
      {problem && !problem.errors.length ? <Alert>{problem.message}</Alert> : null}
      {enabled && q.isPending ? <div className="skeleton h-80" role="status" aria-label="Loading prices" /> : null}
      {q.data ? (
        <section aria-labelledby="cal-title" className="rounded-xl bg-white p-4 ring-1 ring-slate-200">
          <h2 id="cal-title" className="mb-2 font-semibold">
            Cheapest {nights ? `return (${nights.replace("..", "–")} nights)` : "one-way"} fare per departure day, {origin} → {destination}
            {lowest ? ` · lowest ${formatMoney(lowest[1].price.minor, q.data.currency, { whole: true })} on ${formatDay(lowest[0])}` : ""}
          </h2>
          <ExchangeRateNote rate={q.data.exchange_rate} className="mb-2 block text-xs text-slate-700" />
          <div className="mb-2">
            <TrackPrices
              body={{
                origin,
                destination,
                currency,
                dates: { type: "month", month, nights: nightRange(nights) },
                notify: { when: "new_low", percent: 5 },
              }}
              what={`${origin} → ${destination} any day in ${month}`}
            />
          </div>
          <div className="grid grid-cols-7 gap-1 text-center text-xs font-semibold text-slate-700" aria-hidden="true">
            {WEEKDAYS.map((w) => (
              <div key={w}>{w}</div>
            ))}
          </div>
          <ol className="mt-1 grid grid-cols-7 gap-1" aria-label="Days">
            {Array.from({ length: lead }, (_, i) => (
              <li key={`pad-${i}`} aria-hidden="true" />
            ))}
            {days.map((date) => {
              const offer = offers.get(date);
              const price = offer?.price;
              const empty = bookable.data ? emptyDayLabel(date, bookable.data.bookable_from, bookable.data.bookable_to) : "no flights";
              const label = `${formatDay(date)}: ${price ? formatMoney(price.minor, price.currency, { whole: true }) : empty}`;
              const insight = labels[labelKey({ origin, destination, departure_date: date })];
              return (
                <li key={date}>
                  {price ? (
                    <Link
                      href={searchHref(origin, destination, date, offer?.returnDate)}
                      data-testid="calendar-day"
                      data-label={insight?.label}
                      className="flex h-16 flex-col items-center justify-center rounded-md text-white hover:ring-2 hover:ring-sky-900 focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-900"
                      style={{ backgroundColor: priceColour(price.minor, min, max) }}
                    >
                      <span className="sr-only">{formatDay(date)}: </span>
                      <span className="text-xs" aria-hidden="true">
                        {Number(date.slice(8))}
                      </span>
                      <span className="text-sm font-semibold">{formatMoney(price.minor, price.currency, { whole: true })}</span>
                      {insight ? <span className="sr-only">, {LABEL_TEXT[insight.label].toLowerCase()}</span> : null}
                      {/* Low and high stand out; typical is most days and goes unmarked. */}
                      {insight && insight.label !== "typical" ? (
                        <span className={`rounded px-1 text-[10px] font-semibold leading-tight ${LABEL_CLASS[insight.label]}`} aria-hidden="true">
                          {insight.label}
                        </span>
                      ) : null}
                    </Link>
                  ) : (
                    <div className="flex h-16 flex-col items-center justify-center rounded-md bg-slate-100 text-slate-600" title={label} data-testid="calendar-empty-day">
                      <span className="sr-only">{label}</span>
                      <span className="text-xs" aria-hidden="true">
                        {Number(date.slice(8))}
                      </span>
                      <span className="text-xs" aria-hidden="true">
                        —
                      </span>
                    </div>
                  )}
                </li>
              );
            })}
          </ol>
          <div className="mt-3 flex items-center gap-2 text-xs text-slate-700" aria-hidden="true">
            cheaper
            {PRICE_SCALE.map((c) => (
              <span key={c} className="inline-block h-3 w-6 rounded" style={{ backgroundColor: c }} />
            ))}
            dearer
          </div>
          {q.data.grid.length ? <TripLengthGrid data={q.data} origin={origin} destination={destination} /> : null}
        </section>
      ) : null}
    </div>
  );
}

/** Whether the element's content is wider than the element (so it scrolls sideways). */
function useOverflows<T extends HTMLElement>() {
  const ref = useRef<T>(null);
  const [overflows, setOverflows] = useState(false);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const check = () => setOverflows(el.scrollWidth > el.clientWidth + 1);
    const observer = new ResizeObserver(check);
    observer.observe(el);
    check();
    return () => observer.disconnect();
  }, []);
  return { ref, overflows };
}

/** Return prices by departure day (rows: they can be many) and trip length (columns: few). */
function TripLengthGrid({ data, origin, destination }: { data: CalendarResponse; origin: string; destination: string }) {
  const departs = [...new Set(data.grid.map((c) => c.depart))];
  const nights = [...new Set(data.grid.map((c) => c.nights))].sort((a, b) => a - b);
  const cells = new Map(data.grid.map((c) => [`${c.depart}/${c.nights}`, c]));
  const prices = data.grid.flatMap((c) => (c.price ? [c.price.minor] : []));
  const [min, max] = [Math.min(...prices), Math.max(...prices)];
  const { ref, overflows } = useOverflows<HTMLDivElement>();
  return (
    <div className="mt-6">
      <h3 id="grid-title" className="mb-2 text-sm font-semibold">
        Return price by departure day and trip length
      </h3>
      {overflows ? (
        <p data-scroll-hint className="mb-1 text-xs text-slate-600">
          More trip lengths to the right: scroll the table sideways →
        </p>
      ) : null}
      <div ref={ref} className="overflow-x-auto" tabIndex={overflows ? 0 : undefined} role={overflows ? "region" : undefined} aria-labelledby={overflows ? "grid-title" : undefined}>
        <table className="text-xs" aria-labelledby="grid-title">
          <thead>
            <tr>
              <th scope="col" className="whitespace-nowrap p-1 text-left">
                Leave
              </th>
              {nights.map((n) => (
                <th key={n} scope="col" className="whitespace-nowrap p-1 font-medium">
                  {n} {n === 1 ? "night" : "nights"}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {departs.map((d) => (
              <tr key={d}>
                <th scope="row" className="whitespace-nowrap p-1 text-left font-medium">
                  {formatDay(d)}
                </th>
                {nights.map((n) => {
                  const c = cells.get(`${d}/${n}`);
                  return (
                    <td key={n} className="p-0.5">
                      {c?.price ? (
                        <Link
                          href={searchHref(origin, destination, c.depart, c.return)}
                          data-testid="grid-cell"
                          className="block whitespace-nowrap rounded px-2 py-1 text-center text-white"
                          style={{ backgroundColor: priceColour(c.price.minor, min, max) }}
                        >
                          {formatMoney(c.price.minor, c.price.currency, { whole: true })}
                        </Link>
                      ) : (
                        <span className="block text-center text-slate-500">—</span>
                      )}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

export default function CalendarPage() {
  return (
    <Suspense fallback={<div className="skeleton h-40" />}>
      <Calendar />
    </Suspense>
  );
}
