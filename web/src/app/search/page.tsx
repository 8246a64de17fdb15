"use client";

import { Suspense, useEffect, useMemo, useState } from "react";
import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { ApiProblem } from "@/api/client";
import { useCalendar, useSearch } from "@/api/search";
import { usePlaceName } from "@/api/places";
import { useCurrency } from "@/api/currency";
import { apiRequest, fromQuery, toQuery, type Filters, type SearchState, type Sort } from "@/lib/searchUrl";
import { addDays, formatDay, formatDuration, formatMoney } from "@/lib/format";
import { SearchForm } from "@/components/SearchForm";
import { ExchangeRateNote } from "@/components/ExchangeRateNote";
import { CABIN_LABEL } from "@/lib/validation";
import { FiltersPanel } from "@/components/FiltersPanel";
import { ItineraryCard } from "@/components/ItineraryCard";
import { Alert, buttonClass, secondaryButtonClass } from "@/components/Field";
import { PriceInsightPanel } from "@/components/PriceInsight";
import { usePriceHistory, type Departure } from "@/api/prices";
import { useLiveSearch } from "@/api/live";
import { LivePrices } from "@/components/LivePrices";
import { browseKey, byFlights } from "@/lib/live";
import type { LiveSearchBody } from "@/api/types";

const TABS: [Sort, string][] = [
  ["best", "Best"],
  ["cheapest", "Cheapest"],
  ["fastest", "Fastest"],
];

function Skeleton() {
  return (
    <div aria-hidden="true" className="space-y-3">
      {[0, 1, 2, 3].map((i) => (
        <div key={i} className="rounded-xl bg-white p-4 ring-1 ring-slate-200">
          <div className="skeleton mb-3 h-5 w-2/3" />
          <div className="skeleton h-4 w-1/2" />
        </div>
      ))}
    </div>
  );
}

/** "No flights": the cheapest day within ±3 days, from the price calendar. */
function NearbyDays({ state }: { state: SearchState }) {
  const f = state.form;
  const enabled = f.trip !== "multi" && !!f.depart;
  const from = enabled ? addDays(f.depart, -3) : "";
  const currency = useCurrency();
  const { data } = useCalendar(
    { origin: f.origin, destination: f.destination, from, to: addDays(f.depart, 3), adults: f.adults, children: f.children, infants: f.infants, cabin: f.cabin, currency },
    enabled,
  );
  const best = data?.cheapest;
  if (!best?.price) return <p>Try other dates or nearby airports.</p>;
  const shift = Math.round((Date.parse(best.date) - Date.parse(f.depart)) / 86_400_000);
  const next: SearchState = {
    ...state,
    filters: {},
    form: { ...f, depart: best.date, return: f.trip === "return" && f.return ? addDays(f.return, shift) : f.return },
  };
  return (
    <p>
      Try ±3 days: the cheapest nearby day is{" "}
      <Link className="font-semibold text-sky-800 underline" href={`/search/?${toQuery(next).toString()}`}>
        {formatDay(best.date)} from {formatMoney(best.price.minor, best.price.currency, { whole: true })}
      </Link>
      .
    </p>
  );
}

/** Whether the screen is wide enough for the filters beside the results (Tailwind's `lg`). */
function useWide(): boolean {
  const [wide, setWide] = useState(true);
  useEffect(() => {
    const m = window.matchMedia("(min-width: 1024px)");
    const update = () => setWide(m.matches);
    update();
    m.addEventListener("change", update);
    return () => m.removeEventListener("change", update);
  }, []);
  return wide;
}

function Results() {
  const params = useSearchParams();
  const router = useRouter();
  const state = useMemo(() => fromQuery(new URLSearchParams(params.toString())), [params]);
  const ready = state.form.trip === "multi" ? state.form.slices.length > 0 : !!(state.form.origin && state.form.destination && state.form.depart);
  const wide = useWide();
  const [drawer, setDrawer] = useState(false);
  // The search form, folded on a phone once there are results to see.
  const [editing, setEditing] = useState(false);
  useEffect(() => setEditing(false), [params]);
  const activeFilters = Object.values(state.filters).filter(Boolean).length;
  const currency = useCurrency();
  const query = useSearch((cursor) => apiRequest(state, cursor, 20, currency), ready);
  const go = (next: SearchState) => router.replace(`/search/?${toQuery(next).toString()}`, { scroll: false });
  const setFilters = (filters: Filters) => go({ ...state, filters });
  const first = query.data?.pages[0];
  const failed = query.error instanceof ApiProblem ? query.error : null;
  // A later page of a list whose prices have changed since: the results shown stay, with the
  // offer to load them again at today's prices.
  const stale = failed?.code === "stale_cursor";
  const problem = stale ? null : failed;
  const itineraries = query.data?.pages.flatMap((p) => p.itineraries) ?? [];
  const from = usePlaceName(state.form.origin).city;
  const to = usePlaceName(state.form.destination).city;
  // Prices over time are kept per airport pair (a search may name cities): the first result's.
  const lead = itineraries[0]?.slices[0];
  const departure: Partial<Departure> =
    state.form.trip === "multi"
      ? {}
      : {
          origin: lead?.origin,
          destination: lead?.destination,
          departure_date: state.form.depart,
          cabin: state.form.cabin,
          currency,
        };
  const history = usePriceHistory(departure);
  // Live prices for the same trip (not its filters: they narrow what is shown, not asked).
  const f = state.form;
  const liveBody: LiveSearchBody | null =
    ready && f.trip !== "multi"
      ? {
          origin: f.origin.toUpperCase(),
          destination: f.destination.toUpperCase(),
          depart: f.depart,
          return: f.trip === "return" && f.return ? f.return : undefined,
          adults: f.adults,
          children: f.children || undefined,
          infants: f.infants || undefined,
          cabin: f.cabin,
          currency,
        }
      : null;
  const live = useLiveSearch(liveBody);
  const liveByFlights = useMemo(() => byFlights(live), [live]);
  const title =
    state.form.trip === "multi" ? (
      <MultiCityTitle codes={state.form.slices.map((s) => s.origin).concat(state.form.slices.at(-1)?.destination ?? "")} />
    ) : (
      `${from} → ${to}`
    );

  return (
    <div className="space-y-4">
      {/* On a phone the results come first: the search shows as one line that opens the form. */}
      {ready && !editing && !problem ? (
        <button
          type="button"
          className="w-full rounded-xl bg-white p-3 text-left text-sm shadow-sm ring-1 ring-slate-200 md:hidden"
          aria-expanded={false}
          aria-controls="search-form"
          onClick={() => setEditing(true)}
          data-testid="search-summary"
        >
          <span className="block font-semibold">{title}</span>
          <span className="block text-slate-700">
            {summaryLine(state)} · <span className="font-medium text-sky-800 underline">Change</span>
          </span>
        </button>
      ) : null}
      <div id="search-form" className={ready && !editing && !problem ? "hidden md:block" : ""}>
        <SearchForm key={params.toString()} initial={state.form} filters={state.filters} sort={state.sort} problem={problem} />
      </div>
      <h1 className="text-xl font-bold">{ready ? <>Flights {title}</> : "Search flights"}</h1>
      {problem && problem.status < 500 ? (
        <Alert>{problem.errors.length ? "Please correct the highlighted fields." : problem.message}</Alert>
      ) : stale ? (
        <Alert>
          Prices or seats changed since these results were loaded.{" "}
          <button type="button" className="underline" onClick={() => query.refetch()}>
            Show the current prices
          </button>
        </Alert>
      ) : query.isError ? (
        <Alert>
          Search is unavailable right now ({(query.error as Error).message}).{" "}
          <button type="button" className="underline" onClick={() => query.refetch()}>
            Try again
          </button>
        </Alert>
      ) : null}
      {/* One live region, present from the start, so the count is announced when it changes. */}
      <p role="status" aria-live="polite" className="sr-only">
        {!ready || problem ? "" : query.isPending ? "Searching flights…" : first ? `${first.summary.total} itineraries` : ""}
      </p>
      {ready && !problem ? (
        <nav aria-label="Skip to" className="flex gap-3 text-sm">
          <a href="#results" className="sr-only focus:not-sr-only focus:underline">
            Skip to results
          </a>
          <a href="#filters" className="sr-only focus:not-sr-only focus:underline">
            Skip to filters
          </a>
        </nav>
      ) : null}
      {ready && !problem ? (
        <div className="grid gap-4 lg:grid-cols-[18rem_1fr]">
          {wide ? (
            <div id="filters" tabIndex={-1}>
              {first ? <FiltersPanel facets={first.facets} filters={state.filters} onChange={setFilters} /> : <div className="skeleton h-96" />}
            </div>
          ) : (
            // On a phone the results come first; the filters open in a drawer over them.
            <div>
              <button
                type="button"
                id="filters"
                className={`${secondaryButtonClass} w-full`}
                aria-haspopup="dialog"
                aria-expanded={drawer}
                onClick={() => setDrawer(true)}
              >
                Filters{activeFilters ? ` (${activeFilters})` : ""}
              </button>
              {drawer && first ? (
                <div role="dialog" aria-modal="true" aria-label="Filters" className="fixed inset-0 z-40 flex flex-col bg-slate-50">
                  <div className="flex-1 overflow-auto p-3">
                    <FiltersPanel facets={first.facets} filters={state.filters} onChange={setFilters} />
                  </div>
                  <div className="border-t border-slate-200 bg-white p-3">
                    <button type="button" className={`${buttonClass} w-full`} onClick={() => setDrawer(false)} autoFocus>
                      {query.isFetching ? "Updating…" : `Show ${first.summary.total} results`}
                    </button>
                  </div>
                </div>
              ) : null}
            </div>
          )}
          <div className="space-y-3">
            <LivePrices live={live} />
            <div
              role="tablist"
              aria-label="Sort results"
              className="grid grid-cols-3 overflow-hidden rounded-xl bg-white ring-1 ring-slate-200"
              onKeyDown={(e) => {
                // Arrow keys, Home and End move between the tabs (ARIA tabs pattern).
                const at = TABS.findIndex(([s]) => s === state.sort);
                const next = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: TABS.length - 1 }[e.key];
                if (next === undefined) return;
                e.preventDefault();
                const [sort] = TABS[(next + TABS.length) % TABS.length];
                go({ ...state, sort });
                document.getElementById(`tab-${sort}`)?.focus();
              }}
            >
              {TABS.map(([sort, label]) => {
                const s = first?.summary[sort];
                const selected = state.sort === sort;
                return (
                  <button
                    key={sort}
                    id={`tab-${sort}`}
                    role="tab"
                    type="button"
                    aria-selected={selected}
                    aria-controls="results"
                    tabIndex={selected ? 0 : -1}
                    onClick={() => go({ ...state, sort })}
                    className={`px-3 py-2 text-left ${selected ? "border-b-4 border-sky-700 bg-sky-50" : "border-b-4 border-transparent hover:bg-slate-50"}`}
                  >
                    <span className="block font-semibold">{label}</span>
                    <span className="block text-sm text-slate-700">
                      {s ? `${formatMoney(s.price.minor, s.price.currency, { whole: true })} · ${formatDuration(s.duration_minutes)}` : "—"}
                    </span>
                  </button>
                );
              })}
            </div>
            <div
              id="results"
              role="tabpanel"
              aria-labelledby={`tab-${state.sort}`}
              aria-busy={query.isFetching && !query.isFetchingNextPage}
              tabIndex={-1}
              className={`space-y-3 ${query.isPlaceholderData ? "opacity-60" : ""}`}
            >
            {query.isPending ? (
              <>
                <Skeleton />
              </>
            ) : first && first.summary.total === 0 ? (
              <div className="rounded-xl bg-white p-6 ring-1 ring-slate-200" role="status">
                <h2 className="mb-2 text-lg font-semibold">No flights match</h2>
                {Object.values(state.filters).some(Boolean) ? (
                  <p className="mb-2">
                    Your filters hide every flight.{" "}
                    <button type="button" className="font-semibold text-sky-800 underline" onClick={() => setFilters({})}>
                      Clear the filters
                    </button>
                  </p>
                ) : null}
                <NearbyDays state={state} />
              </div>
            ) : (
              <>
                <p className="text-sm text-slate-700">
                  {first?.summary.total} itineraries
                  {first?.exchange_rate ? " · " : null}
                  <ExchangeRateNote rate={first?.exchange_rate} />
                </p>
                {departure.origin ? <PriceInsightPanel departure={departure} returnDate={state.form.trip === "return" ? state.form.return : undefined} searched={`${state.form.origin} → ${state.form.destination}`} /> : null}
                {itineraries.map((it) => (
                  <ItineraryCard
                    key={it.id}
                    it={it}
                    history={history.data ?? undefined}
                    oneWay={state.form.trip === "oneway"}
                    live={liveByFlights.get(browseKey(it))}
                  />
                ))}
                {query.hasNextPage ? (
                  <button type="button" className={`${secondaryButtonClass} w-full`} onClick={() => query.fetchNextPage()} disabled={query.isFetchingNextPage}>
                    {query.isFetchingNextPage ? "Loading…" : "Show more flights"}
                  </button>
                ) : null}
              </>
            )}
            </div>
          </div>
        </div>
      ) : null}
    </div>
  );
}

export default function SearchPage() {
  return (
    <Suspense fallback={<div className="skeleton h-40" />}>
      <Results />
    </Suspense>
  );
}

/** A city's name for its code, as a multi-city title reads ("Paris → Rome → Berlin"). */
function CityName({ code }: { code: string }) {
  return <>{usePlaceName(code).city}</>;
}

function MultiCityTitle({ codes }: { codes: string[] }) {
  return (
    <>
      {codes.map((c, i) => (
        <span key={i}>
          {i > 0 ? " → " : ""}
          <CityName code={c} />
        </span>
      ))}
    </>
  );
}

/** The search in one line: dates, party and cabin ("Tue 15 Dec – Fri 18 Dec · 1 adult · Economy"). */
function summaryLine(state: SearchState): string {
  const f = state.form;
  const dates =
    f.trip === "multi"
      ? f.slices.map((s) => formatDay(s.date)).join(", ")
      : f.trip === "return" && f.return
        ? `${formatDay(f.depart)} – ${formatDay(f.return)}`
        : `${formatDay(f.depart)}, one way`;
  const people = [
    `${f.adults} ${f.adults === 1 ? "adult" : "adults"}`,
    f.children ? `${f.children} ${f.children === 1 ? "child" : "children"}` : "",
    f.infants ? `${f.infants} ${f.infants === 1 ? "infant" : "infants"}` : "",
  ]
    .filter(Boolean)
    .join(", ");
  return `${dates} · ${people} · ${CABIN_LABEL[f.cabin] ?? f.cabin}`;
}
