// Airports, cities and their autocomplete.

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

/** How a place is written in a form field: "London (LON)", "Heathrow Airport (LHR)". */
export function placeLabel(p: Place): string {
  return p.kind === "city" ? `${p.city} (${p.code})` : `${p.name} (${p.code})`;
}

/** The place a bare code in an address names, written for people (the code until known). */
export function usePlaceName(code: string): { label: string; city: string } {
  const known = /^[A-Z]{3}$/.test(code);
  const { data } = usePlace(known ? code : "");
  return data ? { label: placeLabel(data), city: data.city } : { label: code, city: code };
}

export function usePlace(code: string) {
  return useQuery({
    queryKey: ["place", code],
    queryFn: () => unwrap(publicApi.GET("/api/v1/airports/{code}", { params: { path: { code } } })),
    enabled: !!code,
    staleTime: 60 * 60_000,
  });
}
