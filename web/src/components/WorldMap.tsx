"use client";

// The explore map: countries from world-atlas (Natural Earth 1:110m, bundled, no tiles), the
// origin and each destination drawn with d3-geo's Natural Earth projection, destinations
// coloured by price. Markers and labels keep their size on screen whatever the map's width
// (the SVG is scaled to fit, so sizes are worked out from its rendered width); the cheapest
// destinations carry a "city price" label where one fits; hovering or focusing a destination
// shows a card with its price, date, flight time and stops. Every point is a link.

import { useEffect, useMemo, useRef, useState } from "react";
import Link from "next/link";
import { geoNaturalEarth1, geoPath, type GeoPermissibleObjects } from "d3-geo";
import { feature } from "topojson-client";
import type { GeometryCollection, Topology } from "topojson-specification";
import world from "world-atlas/countries-110m.json";
import { priceColour } from "@/lib/colour";
import { formatDay, formatDuration, formatMoney, localTime, stopsText } from "@/lib/format";
import { placeLabels } from "@/lib/mapLabels";
import type { ExploreDestination, Place } from "@/api/types";

const WIDTH = 960;
const HEIGHT = 500;
/** On-screen sizes, CSS pixels. */
const DOT_RADIUS = 7;
const ORIGIN_RADIUS = 9;
const LABEL_FONT = 12;
const MAX_LABELS = 14;

/** The map's rendered width in CSS pixels (0 until laid out). */
function useRenderedWidth<T extends Element>() {
  const ref = useRef<T>(null);
  const [width, setWidth] = useState(0);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const observer = new ResizeObserver(() => setWidth(el.getBoundingClientRect().width));
    observer.observe(el);
    setWidth(el.getBoundingClientRect().width);
    return () => observer.disconnect();
  }, []);
  return { ref, width };
}

let measure: CanvasRenderingContext2D | null = null;
function textWidth(text: string, px: number): number {
  measure ??= document.createElement("canvas").getContext("2d");
  if (!measure) return text.length * px * 0.6;
  measure.font = `600 ${px}px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif`;
  return measure.measureText(text).width;
}

const price = (d: ExploreDestination) => formatMoney(d.price.minor, d.price.currency, { whole: true });

export function WorldMap({
  origin,
  destinations,
  hrefFor,
}: {
  origin: Place | null;
  destinations: ExploreDestination[];
  hrefFor: (d: ExploreDestination) => string;
}) {
  const topo = world as unknown as Topology<{ countries: GeometryCollection }>;
  const countries = useMemo(() => feature(topo, topo.objects.countries), [topo]);
  // Frame the origin and its destinations (a regional answer fills the map), or the world.
  const { path, projection } = useMemo(() => {
    const points = [origin, ...destinations.map((d) => d.airport)]
      .filter((p): p is Place => !!p && p.lat !== null && p.lon !== null)
      .map((p) => [p.lon as number, p.lat as number]);
    const projection = geoNaturalEarth1();
    if (points.length >= 2) projection.fitExtent([[40, 40], [WIDTH - 40, HEIGHT - 40]], { type: "MultiPoint", coordinates: points });
    else projection.fitSize([WIDTH, HEIGHT], countries);
    return { path: geoPath(projection), projection };
  }, [origin, destinations, countries]);
  const { ref, width } = useRenderedWidth<HTMLDivElement>();
  // Map units per CSS pixel.
  const unit = width > 0 ? WIDTH / width : 1;
  const [active, setActive] = useState<string | null>(null);

  const prices = destinations.map((d) => d.price.minor);
  const [min, max] = [Math.min(...prices), Math.max(...prices)];
  const at = (p: { lat?: number | null; lon?: number | null }) => (p.lat == null || p.lon == null ? null : projection([p.lon, p.lat]));
  const o = origin ? at(origin) : null;
  const points = destinations.flatMap((d) => {
    const p = at(d.airport);
    return p ? [{ d, x: p[0], y: p[1] }] : [];
  });

  // A city with several airports in the answer names the airport in its label.
  const shared = new Set(destinations.map((d) => d.airport.city).filter((c, i, all) => all.indexOf(c) !== i));
  const labelText = (d: ExploreDestination) => `${d.airport.city}${shared.has(d.airport.city) ? ` ${d.airport.code}` : ""} ${price(d)}`;
  // Labels for the cheapest destinations, placed in screen pixels (so they never overlap at
  // any width), drawn in map units.
  const labels = (() => {
    if (width === 0) return [];
    const px = (v: number) => v / unit;
    const markers = points.map((p) => ({ key: p.d.airport.code, x: px(p.x) - DOT_RADIUS, y: px(p.y) - DOT_RADIUS, w: 2 * DOT_RADIUS, h: 2 * DOT_RADIUS }));
    if (o && origin) {
      const name = textWidth(origin.city, LABEL_FONT + 1);
      markers.push({ key: "", x: px(o[0]) - ORIGIN_RADIUS, y: px(o[1]) - ORIGIN_RADIUS, w: 2 * ORIGIN_RADIUS + 4 + name, h: 2 * ORIGIN_RADIUS });
    }
    const wishes = [...points]
      .sort((a, b) => a.d.price.minor - b.d.price.minor)
      .map((p) => ({ key: p.d.airport.code, x: px(p.x), y: px(p.y), width: textWidth(labelText(p.d), LABEL_FONT) + 2 }));
    return placeLabels(wishes, { height: LABEL_FONT + 4, radius: DOT_RADIUS, max: MAX_LABELS, width, bottom: (HEIGHT / WIDTH) * width, markers });
  })();
  const byCode = new Map(points.map((p) => [p.d.airport.code, p]));
  const card = active ? byCode.get(active) : undefined;

  return (
    <div ref={ref} className="relative self-start" onMouseLeave={() => setActive(null)}>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} overflow="hidden" role="group" aria-label="Map of destinations" className="h-auto w-full rounded-xl bg-sky-50 ring-1 ring-slate-200">
        <g aria-hidden="true">
          {countries.features.map((f, i) => (
            <path key={i} d={path(f as GeoPermissibleObjects) ?? undefined} fill="#e2e8f0" stroke="#94a3b8" strokeWidth={0.5 * unit} />
          ))}
        </g>
        {o ? (
          <g aria-hidden="true">
            {points.map(({ d, x, y }) => (
              <line
                key={`l-${d.airport.code}`}
                x1={o[0]}
                y1={o[1]}
                x2={x}
                y2={y}
                stroke="#0369a1"
                strokeWidth={(active === d.airport.code ? 2 : 1) * unit}
                strokeOpacity={active === d.airport.code ? 0.8 : 0.15}
              />
            ))}
          </g>
        ) : null}
        {points.map(({ d, x, y }) => {
          const label = `${d.airport.city} (${d.airport.code}), ${d.airport.country_name}: ${price(d)}, ${formatDuration(d.duration_minutes)}`;
          const on = active === d.airport.code;
          return (
            <Link
              key={d.airport.code}
              href={hrefFor(d)}
              aria-label={label}
              data-testid="map-destination"
              data-code={d.airport.code}
              className="focus:outline-none"
              onMouseEnter={() => setActive(d.airport.code)}
              onFocus={() => setActive(d.airport.code)}
              onBlur={() => setActive(null)}
            >
              {/* A larger invisible target for fingers and pointers. */}
              <circle cx={x} cy={y} r={14 * unit} fill="transparent" />
              <circle
                cx={x}
                cy={y}
                r={(on ? DOT_RADIUS + 2 : DOT_RADIUS) * unit}
                fill={priceColour(d.price.minor, min, max)}
                stroke={on ? "#0f172a" : "white"}
                strokeWidth={2 * unit}
                data-testid="map-dot"
                className="cursor-pointer"
              />
            </Link>
          );
        })}
        <g aria-hidden="true">
          {labels.map((l) => {
            const p = byCode.get(l.key);
            if (!p) return null;
            return (
              <text
                key={l.key}
                data-testid="map-label"
                data-code={l.key}
                x={(l.anchor === "start" ? l.box.x : l.box.x + l.box.w) * unit}
                y={(l.box.y + l.box.h / 2) * unit}
                textAnchor={l.anchor}
                dominantBaseline="central"
                fontSize={LABEL_FONT * unit}
                fontWeight={600}
                fill="#0f172a"
                stroke="white"
                strokeWidth={3 * unit}
                paintOrder="stroke"
                className="pointer-events-none"
              >
                {labelText(p.d)}
              </text>
            );
          })}
        </g>
        {o && origin ? (
          <g role="img" aria-label={`Origin: ${origin.city}`} data-testid="map-origin">
            <circle cx={o[0]} cy={o[1]} r={ORIGIN_RADIUS * unit} fill="#0c4a6e" stroke="white" strokeWidth={3 * unit} />
            <circle cx={o[0]} cy={o[1]} r={3 * unit} fill="white" />
            <text
              x={o[0] + (ORIGIN_RADIUS + 4) * unit}
              y={o[1]}
              dominantBaseline="central"
              fontSize={(LABEL_FONT + 1) * unit}
              fontWeight={700}
              fill="#0c4a6e"
              stroke="white"
              strokeWidth={3 * unit}
              paintOrder="stroke"
              aria-hidden="true"
            >
              {origin.city}
            </text>
          </g>
        ) : null}
      </svg>
      {card && width > 0 ? (
        <div
          data-testid="map-card"
          aria-hidden="true"
          className={`pointer-events-none absolute z-10 w-56 -translate-x-1/2 rounded-lg bg-white p-3 text-sm shadow-lg ring-1 ring-slate-200 ${card.y / unit < 130 ? "" : "-translate-y-full"}`}
          style={{
            left: Math.min(Math.max(card.x / unit, 116), width - 116),
            // Below the point in the map's top part, above it elsewhere.
            top: card.y / unit < 130 ? card.y / unit + 16 : card.y / unit - 16,
          }}
        >
          <p className="font-semibold">
            {card.d.airport.city} <span className="font-mono text-xs text-slate-600">{card.d.airport.code}</span>
          </p>
          <p className="text-xs text-slate-600">{card.d.airport.country_name}</p>
          <p className="mt-1 text-lg font-bold">{price(card.d)}</p>
          <p className="text-xs text-slate-700">
            {formatDay(card.d.departure.local.slice(0, 10))} {localTime(card.d.departure.local)} · {formatDuration(card.d.duration_minutes)} ·{" "}
            {stopsText(card.d.stops)}
          </p>
        </div>
      ) : null}
    </div>
  );
}
