"use client";

import { useQuery } from "@tanstack/react-query";
import { api, API_BASE } from "./api";
import { useSession } from "./session";
import type { Preferences, Ready } from "./types";

/** The bookable window the server sells (its "today" may differ from the browser's). */
export function useBookable() {
  return useQuery({
    queryKey: ["readyz"],
    queryFn: async (): Promise<Ready> => {
      const res = await fetch(`${API_BASE}/readyz`);
      if (!res.ok) throw new Error("the service is starting");
      return res.json();
    },
    staleTime: 10 * 60_000,
  });
}

/** The signed-in user's preferences (undefined when signed out). */
export function usePreferences() {
  const profile = useSession((s) => s.profile);
  return useQuery({
    queryKey: ["preferences", profile?.id],
    queryFn: () => api<Preferences>("/me/preferences", { auth: true }),
    enabled: !!profile,
  });
}
