"use client";

import { useEffect, useState } from "react";
import type { LiveItinerary, LivePrice } from "@/api/types";
import { formatDay, formatDuration, formatMoney, localTime, stopsText } from "@/lib/format";
import { liveSummary, progress, providerText, sortedLive, tone, type LiveResults } from "@/lib/live";

/** Milliseconds since `since` changed, ticking while `running`. */
function useElapsed(running: boolean, since: string | undefined): number {
  const [start, setStart] = useState(() => Date.now());
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    setStart(Date.now());
    setNow(Date.now());
  }, [since]);
  useEffect(() => {
    if (!running) return;
    const t = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(t);
  }, [running]);
  return now - start;
}

/** Each provider's prices for one itinerary, with where to book. */
export function ProviderPrices({ prices }: { prices: LivePrice[] }) {
  return (
    <ul className="space-y-1 text-sm" aria-label="Prices from providers" data-testid="provider-prices">
      {prices.map((p) => (
        <li key={p.provider} className="flex flex-wrap items-baseline justify-end gap-x-2">
          <span className="text-slate-700">{p.provider}</span>
          {p.brand ? <span className="text-xs text-slate-600">{p.brand}</span> : null}
          {p.deep_link ? (
            <a
              href={p.deep_link}
              target="_blank"
              rel="noopener noreferrer"
              className="font-semibold text-sky-800 underline"
              data-testid="provider-link"
            >
              {formatMoney(p.price.minor, p.price.currency)}
              <span className="sr-only"> at {p.provider} (opens in a new tab)</span>
            </a>
          ) : (
            <span className="font-semibold">{formatMoney(p.price.minor, p.price.currency)}</span>
          )}
        </li>
      ))}
    </ul>
  );
}

function LiveCard({ it }: { it: LiveItinerary }) {
  return (
    <article className="rounded-xl bg-white p-4 shadow-sm ring-1 ring-slate-200" data-testid="live-itinerary">
      <div className="flex flex-col gap-3 md:flex-row md:items-start">
        <div className="flex-1 space-y-2">
          {it.slices.map((s, i) => (
            <div key={i} className="text-sm">
              <div className="font-semibold tabular-nums">
                {localTime(s.departing_at)} {s.origin} → {localTime(s.arriving_at)} {s.destination}
              </div>
              <div className="text-slate-700">
                {formatDay(s.departing_at.slice(0, 10))}
                {s.duration_minutes != null ? ` · ${formatDuration(s.duration_minutes)}` : ""} · {s.stops === 0 ? "Nonstop" : stopsText(s.stops)} ·{" "}
                {s.segments.map((g) => (g.operating_carrier_name ? `${g.operating_carrier_name} ${g.flight}` : g.flight)).join(", ")}
              </div>
            </div>
          ))}
        </div>
        <div className="text-right md:w-60">
          <div className="text-xl font-bold">{formatMoney(it.price.minor, it.price.currency)}</div>
          <ProviderPrices prices={it.prices} />
        </div>
      </div>
    </article>
  );
}

/**
 * Live prices: a bar per provider filling as it is waited for, what each answered (or why
 * not), and — on demand — every itinerary the providers priced, cheapest first. A provider
 * failing or late says so here; the page goes on.
 */
export function LivePrices({ live }: { live: LiveResults }) {
  const running = live.status === "starting" || live.status === "running";
  const elapsed = useElapsed(running, live.id);
  const [all, setAll] = useState(false);
  if (live.status === "idle") return null;
  const summary =
    live.status === "failed"
      ? `Live prices are unavailable: ${live.error ?? "try again"}`
      : live.status === "starting"
        ? "Asking providers for live prices…"
        : `${liveSummary(live.providers, live.total)}${live.stale ? " (a few minutes old; fresher prices are on their way)" : ""}`;
  return (
    <section aria-labelledby="live-heading" className="rounded-xl bg-white p-4 ring-1 ring-slate-200" data-testid="live-prices" data-status={live.status}>
      <h2 id="live-heading" className="mb-2 text-lg font-semibold">
        Live prices from providers
      </h2>
      <p role="status" aria-live="polite" className="mb-3 text-sm text-slate-700" data-testid="live-summary">
        {summary}
      </p>
      <ul className="space-y-2">
        {live.providers.map((p) => {
          const value = progress(p, elapsed);
          const colour = { offers: "bg-emerald-600", empty: "bg-slate-400", pending: "bg-sky-600", problem: "bg-amber-500" }[tone(p)];
          return (
            <li key={p.name} className="grid grid-cols-[7rem_1fr] items-center gap-x-3 gap-y-1 text-sm" data-testid="live-provider" data-status={p.status}>
              <span className="font-medium">{p.name}</span>
              <div
                role="progressbar"
                aria-label={`${p.name}: ${providerText(p)}`}
                aria-valuemin={0}
                aria-valuemax={100}
                aria-valuenow={value}
                className="h-2 overflow-hidden rounded bg-slate-200"
              >
                <div className={`h-full ${colour} transition-[width] duration-200`} style={{ width: `${value}%` }} />
              </div>
              <span className="col-start-2 text-xs text-slate-700">{providerText(p)}</span>
            </li>
          );
        })}
      </ul>
      {live.total > 0 ? (
        <div className="mt-3">
          <button
            type="button"
            aria-expanded={all}
            aria-controls="live-list"
            onClick={() => setAll((a) => !a)}
            className="rounded-md border border-slate-300 px-3 py-1 text-sm font-medium hover:bg-slate-50 focus-visible:outline focus-visible:outline-2 focus-visible:outline-sky-700"
          >
            {all ? "Hide the live list" : `Show all ${live.total} live results`}
          </button>
          <div id="live-list" hidden={!all} className="mt-3 space-y-3">
            {all ? sortedLive(live).map((it) => <LiveCard key={it.id} it={it} />) : null}
          </div>
        </div>
      ) : null}
    </section>
  );
}
