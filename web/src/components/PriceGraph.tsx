"use client";

import type { PriceHistory } from "@/api/prices";
import { formatDay, formatMoney } from "@/lib/format";
import { sparkline } from "@/lib/insight";

// The drawing area and the margins that hold the axes' labels.
const W = 360;
const H = 140;
const LEFT = 56;
const RIGHT = 10;
const TOP = 8;
const BOTTOM = 22;

/** A departure's lowest price day by day, with the typical range shaded, on axes with prices
 *  and dates; titled with the route and the departure it is for; its data as a table for
 *  screen readers. */
export function PriceGraph({ history }: { history: PriceHistory }) {
  const days = history.days;
  if (days.length === 0) return null;
  const currency = history.currency;
  const values = days.map((d) => d.price.minor);
  const insight = history.insight;
  const all = insight ? [...values, insight.typical_low.minor, insight.typical_high.minor] : values;
  const plotW = W - LEFT - RIGHT;
  const plotH = H - TOP - BOTTOM;
  // The line and the band on one scale, inside the plot area.
  const { points, min, max, y: yIn } = sparkline(values, plotW, plotH, all, 6);
  const y = (v: number) => TOP + yIn(v);
  const x = (i: number) => LEFT + 6 + (days.length > 1 ? (i * (plotW - 12)) / (days.length - 1) : 0);
  const line = points
    .split(" ")
    .map((p) => {
      const [px, py] = p.split(",").map(Number);
      return `${(LEFT + px).toFixed(1)},${(TOP + py).toFixed(1)}`;
    })
    .join(" ");
  const first = days[0];
  const last = days[days.length - 1];
  const money = (m: number) => formatMoney(m, currency, { whole: true });
  // Price ticks: the lowest, the middle and the highest of the scale.
  const ticks = min === max ? [min] : [min, Math.round((min + max) / 2), max];
  // Date ticks: first, last, and the middle day when there are enough days to fit three.
  const dateTicks = days.length >= 5 ? [0, Math.floor((days.length - 1) / 2), days.length - 1] : days.length > 1 ? [0, days.length - 1] : [0];
  const title = `${history.origin} → ${history.destination}, departing ${formatDay(history.departure_date)}`;
  return (
    <figure className="space-y-1" data-testid="price-graph">
      <p className="text-xs font-medium text-slate-800" data-testid="price-graph-title">
        {title}
      </p>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        className="h-auto w-full max-w-md overflow-hidden"
        role="img"
        aria-label={`${title}: lowest price from ${formatDay(first.date)} (${money(first.price.minor)}) to ${formatDay(last.date)} (${money(last.price.minor)})`}
      >
        <rect x={LEFT} y={TOP} width={plotW} height={plotH} className="fill-white stroke-slate-200" />
        {insight ? (
          <rect
            x={LEFT}
            width={plotW}
            y={y(insight.typical_high.minor)}
            height={Math.max(1, y(insight.typical_low.minor) - y(insight.typical_high.minor))}
            className="fill-slate-100"
          />
        ) : null}
        {ticks.map((t) => (
          <g key={t}>
            <line x1={LEFT - 3} x2={LEFT + plotW} y1={y(t)} y2={y(t)} className="stroke-slate-200" strokeDasharray="2 3" />
            <text x={LEFT - 6} y={y(t)} textAnchor="end" dominantBaseline="middle" className="fill-slate-700 text-[10px]">
              {money(t)}
            </text>
          </g>
        ))}
        {dateTicks.map((i) => (
          <text key={i} x={x(i)} y={H - 6} textAnchor={i === 0 ? "start" : i === days.length - 1 ? "end" : "middle"} className="fill-slate-700 text-[10px]">
            {formatDay(days[i].date)}
          </text>
        ))}
        <polyline points={line} fill="none" strokeWidth={2} className="stroke-sky-700" />
        {values.length <= 3 ? values.map((v, i) => <circle key={i} cx={x(i)} cy={y(v)} r={3} className="fill-sky-700" />) : null}
      </svg>
      <figcaption className="text-xs text-slate-700">
        Lowest price on sale each day over the last {days.length} {days.length === 1 ? "day" : "days"}
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
