// The service's readiness: the bookable window the server sells (its "today" may differ from
// the browser's).

import { useQuery } from "@tanstack/react-query";
import { publicApi, unwrap } from "./client";

/** The departure dates on sale. */
export type Bookable = { bookable_from: string; bookable_to: string };

export async function fetchBookable(): Promise<Bookable> {
  const ready = await unwrap(publicApi.GET("/readyz"));
  // Only a process that runs search has a window; the web app talks to one that does.
  if (!ready.bookable_from || !ready.bookable_to) throw new Error(`this server does not run search (it runs ${ready.services.join(", ")})`);
  return { bookable_from: ready.bookable_from, bookable_to: ready.bookable_to };
}

export function useBookable() {
  return useQuery({
    queryKey: ["readyz"],
    queryFn: fetchBookable,
    staleTime: 10 * 60_000,
  });
}
