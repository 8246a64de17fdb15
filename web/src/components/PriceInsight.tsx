"use client";

import { priced, useAdvice, usePriceHistory, type Departure, type PriceHistory } from "@/api/prices";
import { formatMoney } from "@/lib/format";
import { LABEL_CLASS, LABEL_TEXT } from "@/lib/insight";
import { PriceGraph } from "@/components/PriceGraph";
import { TrackPrices } from "@/components/TrackPrices";

export function LabelBadge({ label }: { label: keyof typeof LABEL_TEXT }) {
  return (
    <span className={`inline-block rounded px-2 py-0.5 text-xs font-semibold ${LABEL_CLASS[label]}`} data-testid="price-label">
      {LABEL_TEXT[label]}
    </span>
  );
}

/** Above the results: whether prices are low, typical or high for the trip, how they moved,
 *  whether to buy now or wait, and "track prices". Price history is kept per airport pair and
 *  one way, so on a return trip or a city search the panel says plainly that it speaks of the
 *  outbound flight between those two airports alone. */
export function PriceInsightPanel({ departure, returnDate, searched }: { departure: Partial<Departure>; returnDate?: string; searched?: string }) {
  const history = usePriceHistory(departure);
  const advice = useAdvice(departure);
  if (!priced(departure)) return null;
  const h: PriceHistory | null | undefined = history.data;
  const a = advice.data;
  const route = `${departure.origin} → ${departure.destination}`;
  const oneWayOfReturn = !!returnDate;
  const pairOfCity = !!searched && searched.toUpperCase() !== route.toUpperCase();
  const scope = oneWayOfReturn || pairOfCity ? "One-way prices" : "Prices";
  const body = {
    origin: departure.origin,
    destination: departure.destination,
    cabin: departure.cabin,
    currency: departure.currency,
    dates: { type: "fixed" as const, departure: departure.departure_date, return: returnDate ?? null },
    notify: { when: "new_low" as const, percent: 5 },
  };
  return (
    <section aria-labelledby="price-insight" className="space-y-3 rounded-xl bg-white p-4 ring-1 ring-slate-200">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h2 id="price-insight" className="text-base font-semibold">
          {scope} for {route}
        </h2>
        <TrackPrices body={body} what={`${route} on this date`} />
      </div>
      {history.isPending ? (
        <div className="skeleton h-10" aria-hidden="true" />
      ) : h?.insight && h.current ? (
        <p className="text-sm" data-testid="price-insight">
          <LabelBadge label={h.insight.label} /> The lowest {oneWayOfReturn || pairOfCity ? "one-way " : ""}price {oneWayOfReturn || pairOfCity ? `for ${route} ` : ""}now,{" "}
          {formatMoney(h.current.minor, h.current.currency, { whole: true })}, is {h.insight.label === "typical" ? "typical" : h.insight.label}: it usually costs{" "}
          {formatMoney(h.insight.typical_low.minor, h.currency, { whole: true })}–{formatMoney(h.insight.typical_high.minor, h.currency, { whole: true })}.
          {oneWayOfReturn ? " This is the outbound flight alone; the return trips' prices are in the results." : ""}
          {pairOfCity && !oneWayOfReturn ? ` Your search covers more airports (${searched}); this is the first result's pair.` : ""}
        </p>
      ) : (
        <p className="text-sm text-slate-700">Not enough price history for this trip yet to say whether it is a good price.</p>
      )}
      {h ? <PriceGraph history={h} /> : null}
      {a ? (
        <p className="text-sm" data-testid="advice">
          <span className={`mr-1 rounded px-2 py-0.5 text-xs font-bold ${a.advice === "wait" ? "bg-amber-100 text-amber-900" : "bg-sky-100 text-sky-900"}`}>
            {a.advice === "wait" ? "Wait" : "Buy now"}
          </span>
          {a.summary.replace(/^(Wait|Buy now): (.)/, (_, _v, c: string) => c.toUpperCase())} Confidence {Math.round(a.confidence * 100)} %
          {a.forecast_7d ? ` · next 7 days: ${a.forecast_7d.direction} (${a.forecast_7d.change_percent > 0 ? "+" : ""}${a.forecast_7d.change_percent} %)` : ""}.
        </p>
      ) : null}
    </section>
  );
}
