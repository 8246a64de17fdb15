"use client";

// The explore map: countries from world-atlas (Natural Earth 1:110m, bundled, no tiles), the
// origin and each destination drawn with d3-geo's Natural Earth projection, destinations
// coloured by price. Every point is a keyboard-focusable link.

import { useMemo } from "react";
import Link from "next/link";
import { geoNaturalEarth1, geoPath, type GeoPermissibleObjects } from "d3-geo";
import { feature } from "topojson-client";
import type { GeometryCollection, Topology } from "topojson-specification";
import world from "world-atlas/countries-110m.json";
import { priceColour } from "@/lib/colour";
import { formatDuration, formatMoney } from "@/lib/format";
import type { ExploreDestination, Place } from "@/api/types";

const WIDTH = 960;
const HEIGHT = 500;

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
  const prices = destinations.map((d) => d.price.minor);
  const [min, max] = [Math.min(...prices), Math.max(...prices)];
  const at = (p: { lat?: number | null; lon?: number | null }) => (p.lat == null || p.lon == null ? null : projection([p.lon, p.lat]));
  const o = origin ? at(origin) : null;
  return (
    <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} overflow="hidden" role="group" aria-label="Map of destinations" className="h-auto w-full rounded-xl bg-sky-50 ring-1 ring-slate-200">
      <g aria-hidden="true">
        {countries.features.map((f, i) => (
          <path key={i} d={path(f as GeoPermissibleObjects) ?? undefined} fill="#e2e8f0" stroke="#94a3b8" strokeWidth={0.5} />
        ))}
      </g>
      {o
        ? destinations.map((d) => {
            const p = at(d.airport);
            return p ? <line key={`l-${d.airport.code}`} x1={o[0]} y1={o[1]} x2={p[0]} y2={p[1]} stroke="#0369a1" strokeOpacity={0.15} aria-hidden="true" /> : null;
          })
        : null}
      {destinations.map((d) => {
        const p = at(d.airport);
        if (!p) return null;
        const label = `${d.airport.city} (${d.airport.code}), ${d.airport.country_name}: ${formatMoney(d.price.minor, d.price.currency, { whole: true })}, ${formatDuration(d.duration_minutes)}`;
        return (
          <Link key={d.airport.code} href={hrefFor(d)} aria-label={label} data-testid="map-destination" className="focus:outline-none">
            <circle cx={p[0]} cy={p[1]} r={6} fill={priceColour(d.price.minor, min, max)} stroke="white" strokeWidth={1.5} className="cursor-pointer hover:stroke-slate-900 focus:stroke-slate-900" />
            <title>{label}</title>
          </Link>
        );
      })}
      {o ? (
        <g role="img" aria-label={`Origin: ${origin?.city}`}>
          <circle cx={o[0]} cy={o[1]} r={7} fill="#0c4a6e" stroke="white" strokeWidth={2} />
        </g>
      ) : null}
    </svg>
  );
}
