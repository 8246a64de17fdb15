"use client";

import { useId, useState } from "react";
import Link from "next/link";
import { usePathname, useSearchParams } from "next/navigation";
import { ApiProblem } from "@/api/client";
import { createAlert, type AlertBody } from "@/api/prices";
import { useSession } from "@/lib/session";
import { secondaryButtonClass } from "@/components/Field";

/** "Track prices": creates the alert `body` describes, for the signed-in traveller. */
export function TrackPrices({ body, what }: { body: AlertBody; what: string }) {
  const profile = useSession((s) => s.profile);
  const path = usePathname();
  const params = useSearchParams();
  const [state, setState] = useState<{ tone: "done" | "error"; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const statusId = useId();
  if (!profile) {
    const next = `${path}?${params.toString()}`;
    return (
      <Link className={secondaryButtonClass} href={`/login/?next=${encodeURIComponent(next)}`}>
        Sign in to track prices
      </Link>
    );
  }
  const track = async () => {
    setBusy(true);
    try {
      await createAlert(body);
      setState({ tone: "done", text: `Tracking ${what}.` });
    } catch (e) {
      setState({ tone: "error", text: e instanceof ApiProblem ? e.message : "Could not start tracking." });
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="flex flex-wrap items-center gap-2">
      <button type="button" className={secondaryButtonClass} onClick={track} disabled={busy || state?.tone === "done"} aria-describedby={state ? statusId : undefined}>
        {state?.tone === "done" ? "Tracking" : "Track prices"}
      </button>
      <p id={statusId} role="status" className={`text-sm ${state?.tone === "error" ? "text-red-700" : "text-emerald-800"}`}>
        {state ? (
          <>
            {state.text}{" "}
            {state.tone === "done" ? (
              <Link href="/alerts/" className="underline">
                Your alerts
              </Link>
            ) : null}
          </>
        ) : null}
      </p>
    </div>
  );
}
