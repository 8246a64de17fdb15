// The service's readiness: the bookable window the server sells (its "today" may differ from
// the browser's).

import { useQuery } from "@tanstack/react-query";
import { publicApi, unwrap } from "./client";

export function useBookable() {
  return useQuery({
    queryKey: ["readyz"],
    queryFn: () => unwrap(publicApi.GET("/readyz")),
    staleTime: 10 * 60_000,
  });
}
