"use client";

// Filters with counts. Every change rewrites the URL (the search's single source of truth).

import { useEffect, useRef, useState } from "react";
import type { FacetValue, Facets } from "@/api/types";
import type { FilterKey, Filters } from "@/lib/searchUrl";
import { formatDuration, formatMoney, minutesToClock } from "@/lib/format";
import { currencyDigits } from "@/lib/format";

function listOf(v?: string): string[] {
  return v ? v.split(",").filter(Boolean) : [];
}

/** The first `n` values, and every chosen one beyond them (a choice can always be undone). */
function shown<T extends { value: string }>(values: T[], chosen: string[], n: number): T[] {
  return values.filter((v, i) => i < n || chosen.includes(v.value));
}

function parseRange(v: string | undefined): [number, number] {
  const m = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/.exec(v ?? "");
  if (!m) return [0, 24 * 60];
  return [+m[1] * 60 + +m[2], +m[3] * 60 + +m[4]];
}

function TimeRange({ id, label, value, onChange }: { id: string; label: string; value?: string; onChange: (v?: string) => void }) {
  const [from, to] = parseRange(value);
  const set = (a: number, b: number) => onChange(a === 0 && b === 1440 ? undefined : `${minutesToClock(a)}-${minutesToClock(Math.min(b, 1439))}`);
  return (
    <fieldset className="space-y-1">
      <legend className="text-sm font-semibold">{label}</legend>
      <p className="text-xs text-slate-700" aria-live="polite">
        {minutesToClock(from)} – {minutesToClock(to === 1439 ? 1440 : to)}
      </p>
      <label htmlFor={`${id}-from`} className="sr-only">
        {label}: earliest
      </label>
      <input id={`${id}-from`} type="range" min={0} max={1440} step={60} value={from} onChange={(e) => set(Math.min(+e.target.value, to), to)} className="w-full accent-sky-700" />
      <label htmlFor={`${id}-to`} className="sr-only">
        {label}: latest
      </label>
      <input id={`${id}-to`} type="range" min={0} max={1440} step={60} value={to === 1439 ? 1440 : to} onChange={(e) => set(from, Math.max(+e.target.value, from))} className="w-full accent-sky-700" />
    </fieldset>
  );
}

/**
 * A range input that follows the pointer and the arrow keys at once (its value is its own
 * while it moves) and applies the value a moment after the last movement, so a drag or 25
 * arrow presses are 25 steps, not one request per step racing the next.
 */
function Slider({ id, min, max, step, value, onCommit }: { id: string; min: number; max: number; step: number; value: number; onCommit: (v: number) => void }) {
  const [own, setOwn] = useState(value);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => {
    if (!timer.current) setOwn(value);
  }, [value]);
  useEffect(() => () => void (timer.current && clearTimeout(timer.current)), []);
  return (
    <input
      id={id}
      type="range"
      min={min}
      max={max}
      step={step}
      value={own}
      onChange={(e) => {
        const v = +e.target.value;
        setOwn(v);
        if (timer.current) clearTimeout(timer.current);
        timer.current = setTimeout(() => {
          timer.current = null;
          onCommit(v);
        }, 300);
      }}
      className="w-full accent-sky-700"
    />
  );
}

export function FiltersPanel({ facets, filters, onChange }: { facets: Facets; filters: Filters; onChange: (f: Filters) => void }) {
  const set = (k: FilterKey, v?: string) => onChange({ ...filters, [k]: v });
  const toggle = (k: FilterKey, value: string) => {
    const cur = listOf(filters[k]);
    const next = cur.includes(value) ? cur.filter((x) => x !== value) : [...cur, value];
    set(k, next.length ? next.join(",") : undefined);
  };
  const currency = facets.price_min?.currency ?? "EUR";
  const digits = currencyDigits(currency);
  // The API counts "up to N stops" (what max_stops = N keeps).
  const upTo = (n: number) => facets.stops.filter((s) => +s.value <= n).at(-1)?.count ?? 0;
  const stopChoices: [string | undefined, string, number][] = [
    [undefined, "Any number of stops", upTo(9)],
    ["0", "Nonstop only", upTo(0)],
    ["1", "1 stop or fewer", upTo(1)],
  ];
  const priceMin = facets.price_min ? Math.floor(facets.price_min.minor / 10 ** digits) : 0;
  const priceMax = facets.price_max ? Math.ceil(facets.price_max.minor / 10 ** digits) : 0;
  const price = filters.max_price ? Number(filters.max_price) : priceMax;
  const durMax = Math.ceil((facets.duration_max_minutes ?? 0) / 60);
  const durMin = Math.floor((facets.duration_min_minutes ?? 0) / 60);
  const duration = filters.max_duration_hours ? Number(filters.max_duration_hours) : durMax;

  const box = "h-4 w-4 accent-sky-700";
  return (
    <aside aria-label="Filters" className="space-y-5 rounded-xl bg-white p-4 text-sm shadow-sm ring-1 ring-slate-200">
      <div className="flex items-center justify-between">
        <h2 className="text-base font-semibold">Filters</h2>
        {Object.values(filters).some(Boolean) ? (
          <button type="button" className="text-sm text-sky-800 underline" onClick={() => onChange({})}>
            Clear all
          </button>
        ) : null}
      </div>
      <fieldset>
        <legend className="mb-1 font-semibold">Stops</legend>
        {stopChoices.map(([value, label, count]) => (
          <label key={label} className="flex items-center gap-2 py-0.5">
            <input type="radio" name="stops" className={box} checked={filters.max_stops === value} onChange={() => set("max_stops", value)} />
            <span className="flex-1">{label}</span>
            <span className="text-slate-600">{count}</span>
          </label>
        ))}
      </fieldset>
      {facets.price_max ? (
        <div>
          <label htmlFor="max-price" className="font-semibold">
            Max price
          </label>
          <p className="text-xs text-slate-700" aria-live="polite">
            up to {formatMoney(price * 10 ** digits, currency, { whole: true })}
          </p>
          <Slider
            id="max-price"
            min={priceMin}
            max={priceMax}
            step={Math.max(1, Math.round((priceMax - priceMin) / 50))}
            value={price}
            onCommit={(v) => set("max_price", v >= priceMax ? undefined : String(v))}
          />
        </div>
      ) : null}
      {durMax > 0 ? (
        <div>
          <label htmlFor="max-duration" className="font-semibold">
            Max journey time
          </label>
          <p className="text-xs text-slate-700" aria-live="polite">
            up to {formatDuration(duration * 60)}
          </p>
          <Slider
            id="max-duration"
            min={Math.max(1, durMin)}
            max={durMax}
            step={1}
            value={duration}
            onCommit={(v) => set("max_duration_hours", v >= durMax ? undefined : String(v))}
          />
        </div>
      ) : null}
      <TimeRange id="depart-time" label="Departure time" value={filters.depart_time} onChange={(v) => set("depart_time", v)} />
      <TimeRange id="arrive-time" label="Arrival time" value={filters.arrive_time} onChange={(v) => set("arrive_time", v)} />
      {facets.alliances.length ? (
        <fieldset>
          <legend className="mb-1 font-semibold">Alliances</legend>
          <p className="mb-1 text-xs text-slate-600">Every flight within the alliance</p>
          {facets.alliances.map((a) => (
            <FacetRow key={a.value} value={a} currency={currency} checked={listOf(filters.alliances).includes(a.value)} onToggle={() => toggle("alliances", a.value)} />
          ))}
        </fieldset>
      ) : null}
      {facets.carriers.length ? (
        <fieldset>
          <legend className="mb-1 font-semibold">Airlines</legend>
          <p className="mb-1 text-xs text-slate-600">Trips with a flight by any airline ticked</p>
          {shown(facets.carriers, listOf(filters.carriers), 15).map((c) => (
            <FacetRow key={c.value} value={c} currency={currency} checked={listOf(filters.carriers).includes(c.value)} onToggle={() => toggle("carriers", c.value)} />
          ))}
        </fieldset>
      ) : null}
      {facets.layovers.length ? (
        <fieldset>
          <legend className="mb-1 font-semibold">Connect in</legend>
          <p className="mb-1 text-xs text-slate-600">Trips connecting in any airport ticked</p>
          {shown(facets.layovers, listOf(filters.layovers), 12).map((l) => (
            <FacetRow key={l.value} value={l} currency={currency} checked={listOf(filters.layovers).includes(l.value)} onToggle={() => toggle("layovers", l.value)} />
          ))}
        </fieldset>
      ) : null}
    </aside>
  );
}

/** One choice of a list filter: its name, and beneath it how many trips it shows and from what price. */
function FacetRow({ value, currency, checked, onToggle }: { value: FacetValue; currency: string; checked: boolean; onToggle: () => void }) {
  return (
    <label className="flex items-start gap-2 py-0.5">
      <input type="checkbox" className="mt-0.5 h-4 w-4 shrink-0 accent-sky-700" checked={checked} onChange={onToggle} />
      <span className="min-w-0 flex-1">
        <span className="block truncate" title={value.label}>
          {value.label}
        </span>
        <span className="block text-xs tabular-nums text-slate-600">
          {value.count} {value.count === 1 ? "trip" : "trips"}
          {value.min_price ? ` · from ${formatMoney(value.min_price.minor, currency, { whole: true })}` : ""}
        </span>
      </span>
    </label>
  );
}
