"use client";

import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { ApiProblem, refreshSession } from "@/api/client";
import { fetchMe } from "@/api/account";
import { useSession } from "@/lib/session";

/** Restores the session from the stored refresh token once per page load. */
function SessionRestorer() {
  const setProfile = useSession((s) => s.setProfile);
  const setReady = useSession((s) => s.setReady);
  useEffect(() => {
    refreshSession()
      .then(async (token) => {
        if (token) setProfile(await fetchMe());
      })
      .catch(() => {
        /* the session ended; pages that need it send the user to sign in */
      })
      .finally(setReady);
  }, [setProfile, setReady]);
  return null;
}

export function Providers({ children }: { children: React.ReactNode }) {
  const [client] = useState(
    () =>
      new QueryClient({
        defaultOptions: {
          queries: {
            staleTime: 60_000,
            refetchOnWindowFocus: false,
            // Bad input will not get better by asking again.
            retry: (n, e) => !(e instanceof ApiProblem && e.status >= 400 && e.status < 500) && n < 2,
          },
        },
      }),
  );
  return (
    <QueryClientProvider client={client}>
      <SessionRestorer />
      {children}
    </QueryClientProvider>
  );
}
