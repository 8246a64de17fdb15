// Airports, cities and their autocomplete.

import { useQuery } from "@tanstack/react-query";
import { publicApi, unwrap } from "./client";
import type { Place } from "./types";

export function fetchPlaces(q: string, limit: number, signal?: AbortSignal): Promise<Place[]> {
  return unwrap(publicApi.GET("/api/v1/airports", { params: { query: { q, limit } }, signal }));
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

export function usePlace(code: string) {
  return useQuery({
    queryKey: ["place", code],
    queryFn: () => unwrap(publicApi.GET("/api/v1/airports/{code}", { params: { path: { code } } })),
    enabled: !!code,
    staleTime: 60 * 60_000,
  });
}
