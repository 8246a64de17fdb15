// Live search results as the page holds them: answers folded in as they stream, and how a
// live itinerary is found beside the Browse result for the same flights.

import type { Itinerary, LiveItinerary, LiveProvider, LiveSearchResponse } from "@/api/types";

export type LiveResults = {
  id?: string;
  /** `starting` until the search is made; `running` while providers answer. */
  status: "idle" | "starting" | "running" | "complete" | "failed";
  /** The cursor of the last answer folded in. */
  cursor: number;
  providers: LiveProvider[];
  itineraries: Record<string, LiveItinerary>;
  total: number;
  stale: boolean;
  currency?: string;
  error?: string;
};

export const NO_RESULTS: LiveResults = { status: "idle", cursor: -1, providers: [], itineraries: {}, total: 0, stale: false };

/** `answer` folded into `r`: providers as it says, itineraries merged by id. An answer older
 *  than the last one folded in (a reconnecting stream's repeat) changes nothing. */
export function applyAnswer(r: LiveResults, answer: LiveSearchResponse): LiveResults {
  if (r.id === answer.id && answer.cursor <= r.cursor) return r;
  const itineraries = r.id === answer.id ? { ...r.itineraries } : {};
  for (const it of answer.itineraries) itineraries[it.id] = it;
  return {
    id: answer.id,
    status: answer.status === "complete" ? "complete" : "running",
    cursor: answer.cursor,
    providers: answer.providers,
    itineraries,
    total: answer.total,
    stale: answer.stale,
    currency: answer.currency,
  };
}

/** Cheapest first, then by id (a stable order while prices arrive). */
export function sortedLive(r: LiveResults): LiveItinerary[] {
  return Object.values(r.itineraries).sort((a, b) => a.price.minor - b.price.minor || a.id.localeCompare(b.id));
}

/** Flights as flown: each segment's operating airline, airports and local departure. */
function key(slices: { origin: string; destination: string; carrier: string; departing: string }[][]): string {
  return slices.map((s) => s.map((g) => `${g.carrier}:${g.origin}-${g.destination}@${g.departing.slice(0, 16)}`).join(",")).join("|");
}

export function browseKey(it: Itinerary): string {
  return key(it.slices.map((s) => s.segments.map((g) => ({ origin: g.origin, destination: g.destination, carrier: g.carrier, departing: g.departure.local }))));
}

export function liveKey(it: LiveItinerary): string {
  return key(
    it.slices.map((s) => s.segments.map((g) => ({ origin: g.origin, destination: g.destination, carrier: g.operating_carrier, departing: g.departing_at }))),
  );
}

/** Live itineraries by the key of their flights. */
export function byFlights(r: LiveResults): Map<string, LiveItinerary> {
  return new Map(Object.values(r.itineraries).map((it) => [liveKey(it), it]));
}

const ERRORS: Record<string, string> = {
  provider_timeout: "did not answer in time",
  provider_unreachable: "could not be reached",
  provider_unauthorized: "refused our credentials",
  provider_rate_limited: "is busy (rate limited)",
  provider_rejected: "refused the search",
  provider_failed: "had an error",
  provider_malformed: "answered something unreadable",
  provider_config: "is not set up",
};

/** What a provider's state means, for people. */
export function providerText(p: LiveProvider): string {
  const secs = p.elapsed_ms != null ? ` in ${(p.elapsed_ms / 1000).toFixed(1)} s` : "";
  switch (p.status) {
    case "pending":
      return "Searching…";
    case "complete":
      return `${p.offers} ${p.offers === 1 ? "offer" : "offers"}${secs}`;
    case "failed":
      return `Failed: ${ERRORS[p.error?.code ?? ""] ?? "had an error"}`;
    case "timed_out":
      return `Timed out${secs}`;
    case "skipped":
      return "Skipped: failing lately, tried again soon";
    default:
      return p.status;
  }
}

/** The run's providers in words: answers (with offers), empty answers, failures, timeouts and
 *  those skipped, each counted on its own, and what was priced. */
export function liveSummary(providers: LiveProvider[], total: number): string {
  const n = (status: string) => providers.filter((p) => p.status === status).length;
  const offered = providers.filter((p) => p.status === "complete" && p.offers > 0).length;
  const empty = n("complete") - offered;
  const parts = [
    `${offered} of ${providers.length} ${providers.length === 1 ? "provider" : "providers"} offered flights`,
    empty ? `${empty} had none` : "",
    n("failed") ? `${n("failed")} failed` : "",
    n("timed_out") ? `${n("timed_out")} timed out` : "",
    n("skipped") ? `${n("skipped")} skipped` : "",
    n("pending") ? `${n("pending")} still searching` : "",
  ].filter(Boolean);
  return `${parts.join(", ")} · ${total} ${total === 1 ? "itinerary" : "itineraries"} priced live`;
}

/** How a provider's bar is drawn: green only for an answer with offers. */
export function tone(p: LiveProvider): "offers" | "empty" | "pending" | "problem" {
  if (p.status === "pending") return "pending";
  if (p.status === "complete") return p.offers > 0 ? "offers" : "empty";
  return "problem";
}

/** How far a provider's bar goes: done is full; a pending one fills towards `expectMs`
 *  (never quite full until it answers). */
export function progress(p: LiveProvider, elapsedMs: number, expectMs = 20_000): number {
  if (p.status !== "pending") return 100;
  return Math.min(95, Math.round((elapsedMs / expectMs) * 100));
}
