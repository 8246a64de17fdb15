// Explore: everywhere within a journey time from an origin.

import { useQuery } from "@tanstack/react-query";
import { publicApi, unwrap } from "./client";
import type { ExploreQuery } from "./types";

export function useExplore(query: ExploreQuery | null) {
  return useQuery({
    queryKey: ["explore", query],
    queryFn: () => unwrap(publicApi.GET("/api/v1/explore", { params: { query: query! } })),
    enabled: !!query,
  });
}
