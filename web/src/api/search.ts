// Search and the price calendar: fetchers, query keys and hooks.

import { keepPreviousData, useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { publicApi, unwrap } from "./client";
import type { CalendarQuery, CalendarResponse, SearchBody, SearchQuery, SearchResponse } from "./types";

/** One-way and round trips are a GET; multi-city trips a POST of their slices. */
export type SearchRequest = { query: SearchQuery } | { body: SearchBody };

export function fetchSearch(request: SearchRequest, signal?: AbortSignal): Promise<SearchResponse> {
  return unwrap(
    "query" in request
      ? publicApi.GET("/api/v1/search", { params: { query: request.query }, signal })
      : publicApi.POST("/api/v1/search", { body: request.body, signal }),
  );
}

/** Pages of results for `page(cursor)`, the next one on demand. */
export function useSearch(page: (cursor?: string) => SearchRequest, enabled: boolean) {
  return useInfiniteQuery({
    queryKey: ["search", page()],
    queryFn: ({ pageParam, signal }) => fetchSearch(page(pageParam ?? undefined), signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor ?? null,
    enabled,
    // While a changed filter or sort loads, the previous answer stays on screen, so the
    // filter panel is not unmounted under the keyboard focus or a dragged slider.
    placeholderData: keepPreviousData,
  });
}

export function fetchCalendar(query: CalendarQuery): Promise<CalendarResponse> {
  return unwrap(publicApi.GET("/api/v1/calendar", { params: { query } }));
}

export function useCalendar(query: CalendarQuery, enabled: boolean) {
  return useQuery({ queryKey: ["calendar", query], queryFn: () => fetchCalendar(query), enabled });
}
