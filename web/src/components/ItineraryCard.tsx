"use client";

import { useId, useState } from "react";
import type { Itinerary, LiveItinerary, Slice } from "@/api/types";
import type { PriceHistory } from "@/api/prices";
import { labelFor } from "@/lib/insight";
import { PriceGraph } from "@/components/PriceGraph";
import { LabelBadge } from "@/components/PriceInsight";
import { ProviderPrices } from "@/components/LivePrices";
import { co2Comparison, dayMarker, dayOffset, formatDay, formatDuration, formatMoney, localTime, priceFreshness, stopsText } from "@/lib/format";

const PAX: Record<string, string> = { adult: "Adult", child: "Child", infant: "Infant" };

function Warning({ children }: { children: React.ReactNode }) {
  return (
    <span className="inline-flex items-center gap-1 rounded bg-amber-100 px-2 py-0.5 text-xs font-semibold text-amber-900">
      <span aria-hidden="true">⚠</span>
      {children}
    </span>
  );
}

function SliceSummary({ s }: { s: Slice }) {
  const carriers = [...new Set(s.segments.map((x) => x.carrier_name || x.carrier))].join(", ");
  const marker = dayMarker(s.arrival_day_offset);
  return (
    <div className="grid grid-cols-[auto_1fr_auto] items-center gap-x-4 gap-y-1">
      <div className="text-right">
        <div className="text-lg font-semibold tabular-nums">{localTime(s.departure.local)}</div>
        <div className="text-xs text-slate-600">
          {s.origin} · <span data-testid="slice-date">{formatDay(s.departure.local.slice(0, 10))}</span>
        </div>
      </div>
      <div className="min-w-0 text-center">
        <div className="text-xs text-slate-600">{formatDuration(s.duration_minutes)}</div>
        <div className="relative my-1 h-px bg-slate-300" aria-hidden="true">
          {s.layovers.map((l, i) => (
            <span
              key={i}
              className="absolute top-1/2 h-2 w-2 -translate-y-1/2 rounded-full bg-slate-500"
              style={{ left: `${((i + 1) / (s.layovers.length + 1)) * 100}%` }}
            />
          ))}
        </div>
        <div className="truncate text-xs text-slate-700">
          {s.stops === 0 ? "Nonstop" : `${stopsText(s.stops)} · ${s.layovers.map((l) => l.arrival_airport).join(", ")}`}
        </div>
      </div>
      <div>
        <div className="text-lg font-semibold tabular-nums">
          {localTime(s.arrival.local)}
          {marker ? (
            <sup className="ml-0.5 text-xs font-bold text-rose-700" title={`Arrives ${marker} day`}>
              {marker}
              <span className="sr-only"> day</span>
            </sup>
          ) : null}
        </div>
        <div className="text-xs text-slate-600">{s.destination}</div>
      </div>
      <div className="col-span-3 flex flex-wrap gap-2 text-xs text-slate-700">
        <span>{carriers}</span>
        {s.self_transfer ? <Warning>Self-transfer: collect and re-check bags</Warning> : null}
        {s.airport_change ? <Warning>Change of airport</Warning> : null}
      </div>
    </div>
  );
}

function SliceDetails({ s }: { s: Slice }) {
  return (
    <ol className="space-y-2 border-l-2 border-slate-200 pl-4 text-sm">
      {s.segments.map((seg, i) => (
        <li key={seg.flight + i}>
          <div className="font-medium">
            {localTime(seg.departure.local)} {seg.origin} → {localTime(seg.arrival.local)}
            {dayMarker(dayOffset(s.departure.local, seg.arrival.local)) ? (
              <sup className="text-rose-700">{dayMarker(dayOffset(s.departure.local, seg.arrival.local))}</sup>
            ) : null}{" "}
            {seg.destination}
          </div>
          <div className="text-slate-600">
            {seg.carrier_name} {seg.flight} · {seg.aircraft} · {formatDuration(seg.duration_minutes)} · {seg.distance_km.toLocaleString("en-GB")} km
          </div>
          {s.layovers[i] ? (
            <div className="my-2 rounded bg-slate-100 px-2 py-1 text-slate-700">
              {formatDuration(s.layovers[i].duration_minutes)} layover in {s.layovers[i].arrival_airport}
              {s.layovers[i].airport_change ? ` — change to ${s.layovers[i].departure_airport}` : ""}
              {s.layovers[i].self_transfer ? " — self-transfer, separate tickets" : ""}
            </div>
          ) : null}
        </li>
      ))}
    </ol>
  );
}

/** A result; with the price history of its route and date (`history`), its price's label
 *  (one-way fares only: the range is a one-way fare's) and, in its details, the graph. With
 *  `live` (the same flights priced by providers just now), the providers' prices beneath the
 *  headline, each with a link to book. The headline is always Spontra's price: the one the
 *  tabs, the sort, the details' total, the calendar and alerts use, so every view agrees. */
export function ItineraryCard({ it, history, oneWay = false, live }: { it: Itinerary; history?: PriceHistory; oneWay?: boolean; live?: LiveItinerary }) {
  const [open, setOpen] = useState(false);
  const detailsId = useId();
  const co2 = co2Comparison(it.co2_kg, it.typical_co2_kg);
  const currency = it.price.currency;
  const first = it.slices[0];
  const ours = history && history.origin === first.origin && history.destination === first.destination && history.currency === currency ? history : undefined;
  const adult = it.price_breakdown.find((p) => p.passenger_type === "adult")?.each.minor;
  const label = oneWay && ours?.insight && adult !== undefined ? labelFor(adult, ours.insight.typical_low.minor, ours.insight.typical_high.minor) : null;
  return (
    <article className="rounded-xl bg-white p-4 shadow-sm ring-1 ring-slate-200" data-testid="itinerary">
      <div className="flex flex-col gap-4 md:flex-row md:items-center">
        <div className="flex-1 space-y-3">
          {it.slices.map((s, i) => (
            <SliceSummary key={i} s={s} />
          ))}
        </div>
        <div className="flex flex-row items-center justify-between gap-4 md:w-52 md:flex-col md:items-end">
          <div className="text-right">
            <div className="text-2xl font-bold" data-testid="price">
              {formatMoney(it.price.minor, currency)}
            </div>
            {label ? <LabelBadge label={label} /> : null}
            <div className="text-xs text-slate-600">total, all passengers</div>
            <div className="text-xs text-slate-600" data-testid="freshness">
              {priceFreshness(it.price_age_seconds)}
            </div>
            <div className={`text-xs ${co2.tone === "good" ? "text-emerald-800" : co2.tone === "bad" ? "text-rose-800" : "text-slate-600"}`}>
              {Math.round(it.co2_kg)} kg CO2 per passenger · {co2.text}
            </div>
            {live ? (
              <div className="mt-2 rounded-md bg-sky-50 p-2 text-left">
                <div className="text-xs font-semibold text-sky-900">
                  Providers now from <span data-testid="live-price">{formatMoney(live.price.minor, live.price.currency)}</span>
                </div>
                <ProviderPrices prices={live.prices} />
              </div>
            ) : null}
          </div>
          <button
            type="button"
            aria-expanded={open}
            aria-controls={detailsId}
            onClick={() => setOpen((o) => !o)}
            className="rounded-md border border-slate-300 px-3 py-1 text-sm font-medium hover:bg-slate-50 focus-visible:outline focus-visible:outline-2 focus-visible:outline-sky-700"
          >
            {open ? "Hide details" : "Details"}
          </button>
        </div>
      </div>
      <div id={detailsId} hidden={!open} className="mt-4 grid gap-4 border-t border-slate-200 pt-4 md:grid-cols-[2fr_1fr]">
        <div className="space-y-4">
          {it.slices.map((s, i) => (
            <section key={i} aria-label={`Flight ${i + 1}: ${s.origin} to ${s.destination}`}>
              <h3 className="mb-2 text-sm font-semibold">
                {s.origin} → {s.destination} · {formatDay(s.departure.local.slice(0, 10))} · {formatDuration(s.duration_minutes)}
              </h3>
              <SliceDetails s={s} />
            </section>
          ))}
          {ours && ours.days.length > 0 ? (
            <section aria-label="Price history">
              <h3 className="mb-2 text-sm font-semibold">
                How the price of {first.origin} → {first.destination} moved
              </h3>
              <PriceGraph history={ours} />
            </section>
          ) : null}
        </div>
        <table className="h-fit text-sm">
          <caption className="mb-1 text-left font-semibold">Price per passenger</caption>
          <tbody>
            {it.price_breakdown.map((p) => (
              <tr key={p.passenger_type}>
                <th scope="row" className="pr-4 text-left font-normal">
                  {p.count} × {PAX[p.passenger_type]}
                </th>
                <td className="text-right tabular-nums">{formatMoney(p.each.minor, currency)}</td>
              </tr>
            ))}
            <tr className="border-t border-slate-200 font-semibold">
              <th scope="row" className="pr-4 text-left">
                Total
              </th>
              <td className="text-right tabular-nums" data-testid="details-total">
                {formatMoney(it.price.minor, currency)}
              </td>
            </tr>
          </tbody>
        </table>
      </div>
    </article>
  );
}
