// Airports, cities and their autocomplete.

import { useEffect } from "react";
import { useQuery } from "@tanstack/react-query";
import { publicApi, unwrap } from "./client";
import type { Place } from "./types";

export function fetchPlaces(q: string, limit: number, signal?: AbortSignal): Promise<Place[]> {
  return unwrap(publicApi.GET("/api/v1/airports", { params: { query: { q, limit } }, signal }));
}

const resolved = new Map<string, string | null>();

/**
 * The code of the place `text` names unambiguously ("London" → LON, "München" → MUC), or
 * null when it names several or none (then the traveller chooses from the list).
 */
export async function resolvePlace(text: string): Promise<string | null> {
  const key = text.trim().toLowerCase();
  if (!resolved.has(key)) {
    const [first] = await fetchPlaces(text.trim(), 8).catch(() => [] as Place[]);
    resolved.set(key, first?.best_match ? first.code : null);
  }
  return resolved.get(key) ?? null;
}

/** Suggestions for what someone is typing (enabled once it is worth asking). */
export function usePlaces(q: string, enabled: boolean) {
  return useQuery({
    queryKey: ["places", q],
    queryFn: ({ signal }) => fetchPlaces(q, 8, signal),
    enabled,
    staleTime: 5 * 60_000,
  });
}

/** Words every airport's name has, which say nothing in a form field. */
const GENERIC = /\b(international|intl\.?|airport|aeroporto|aeropuerto|aéroport|flughafen|lufthavn|flygplats)\b/gi;

/**
 * How a place is written in a form field, short enough to be read whole: "London (LON)" for
 * a city, "London Heathrow (LHR)" or "New York John F Kennedy (JFK)" for an airport (its
 * name without the generic words, after its city when the name does not say it).
 */
export function placeLabel(p: Pick<Place, "kind" | "code" | "name" | "city">): string {
  if (p.kind === "city") return `${p.city} (${p.code})`;
  const name = p.name.replace(GENERIC, " ").replace(/\s+/g, " ").trim();
  const named = !name || name.toLowerCase().includes(p.city.toLowerCase()) ? name || p.city : `${p.city} ${name}`;
  return `${named} (${p.code})`;
}

/** The place a bare code in an address names, written for people (the code until known). */
export function usePlaceName(code: string): { label: string; city: string } {
  const known = /^[A-Z]{3}$/.test(code);
  const { data } = usePlace(known ? code : "");
  return data ? { label: placeLabel(data), city: data.city } : { label: code, city: code };
}

/**
 * A form field holding a bare code (from an address or a preference) shows its place's label
 * once known, unless the traveller has typed something else meanwhile. `set` must be stable.
 */
export function useNamedPlaceField(value: string, set: (update: (v: string) => string) => void) {
  const code = /^[A-Z]{3}$/.test(value) ? value : "";
  const { label } = usePlaceName(code);
  useEffect(() => {
    if (code && label !== code) set((v) => (v === code ? label : v));
  }, [code, label, set]);
}

export function usePlace(code: string) {
  return useQuery({
    queryKey: ["place", code],
    queryFn: () => unwrap(publicApi.GET("/api/v1/airports/{code}", { params: { path: { code } } })),
    enabled: !!code,
    staleTime: 60 * 60_000,
  });
}
