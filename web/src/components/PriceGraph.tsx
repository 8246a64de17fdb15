"use client";

import type { PriceHistory } from "@/api/prices";
import { formatDay, formatMoney } from "@/lib/format";
import { sparkline } from "@/lib/insight";

const W = 320;
const H = 96;

/** A departure's lowest price day by day, with the typical range shaded; its data as a table
 *  for screen readers. */
export function PriceGraph({ history }: { history: PriceHistory }) {
  const days = history.days;
  if (days.length === 0) return null;
  const currency = history.currency;
  const values = days.map((d) => d.price.minor);
  const insight = history.insight;
  const all = insight ? [...values, insight.typical_low.minor, insight.typical_high.minor] : values;
  // The line and the band on one scale.
  const { points: line, y } = sparkline(values, W, H, all);
  const first = days[0];
  const last = days[days.length - 1];
  const money = (m: number) => formatMoney(m, currency, { whole: true });
  return (
    <figure className="space-y-1" data-testid="price-graph">
      <svg viewBox={`0 0 ${W} ${H}`} className="h-24 w-full max-w-md" role="img" aria-label={`Lowest price from ${formatDay(first.date)} (${money(first.price.minor)}) to ${formatDay(last.date)} (${money(last.price.minor)})`}>
        {insight ? (
          <rect x={0} width={W} y={y(insight.typical_high.minor)} height={Math.max(1, y(insight.typical_low.minor) - y(insight.typical_high.minor))} className="fill-slate-100" />
        ) : null}
        <polyline points={line} fill="none" strokeWidth={2} className="stroke-sky-700" />
        {values.length === 1 ? <circle cx={4} cy={y(values[0])} r={3} className="fill-sky-700" /> : null}
      </svg>
      <figcaption className="text-xs text-slate-700">
        Lowest price over the last {days.length} {days.length === 1 ? "day" : "days"}
        {insight ? ` · shaded: typical ${money(insight.typical_low.minor)}–${money(insight.typical_high.minor)}` : ""}
      </figcaption>
      <table className="sr-only">
        <caption>Lowest price by day</caption>
        <thead>
          <tr>
            <th scope="col">Day</th>
            <th scope="col">Lowest price</th>
          </tr>
        </thead>
        <tbody>
          {days.map((d) => (
            <tr key={d.date}>
              <td>{formatDay(d.date)}</td>
              <td>{money(d.price.minor)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
