import { describe, expect, it } from "vitest";
import { applyAnswer, browseKey, byFlights, liveKey, liveSummary, NO_RESULTS, progress, providerText, sortedLive, tone } from "./live";
import type { Itinerary, LiveItinerary, LiveProvider, LiveSearchResponse } from "@/api/types";

const provider = (name: string, status: string, extra: Partial<LiveProvider> = {}): LiveProvider => ({
  name,
  status,
  offers: 0,
  left_out: 0,
  elapsed_ms: null,
  error: null,
  ...extra,
});

function live(id: string, minor: number, departing = "2026-12-18T09:05:00"): LiveItinerary {
  return {
    id,
    price: { amount: (minor / 100).toFixed(2), currency: "EUR", minor },
    prices: [],
    slices: [
      {
        origin: "LHR",
        destination: "JFK",
        departing_at: departing,
        arriving_at: "2026-12-18T12:10:00",
        duration_minutes: 485,
        stops: 0,
        segments: [
          {
            origin: "LHR",
            destination: "JFK",
            departing_at: departing,
            arriving_at: "2026-12-18T12:10:00",
            flight: "AA6135",
            operating_carrier: "BA",
            operating_carrier_name: "British Airways",
            operating_flight: null,
          },
        ],
      },
    ],
  } as LiveItinerary;
}

function answer(cursor: number, status: string, its: LiveItinerary[], providers: LiveProvider[]): LiveSearchResponse {
  return { id: "s1", status, cursor, stale: false, started_at: "", currency: "EUR", providers, total: its.length, itineraries: its } as LiveSearchResponse;
}

describe("live results", () => {
  it("fold answers in by cursor, merging itineraries by id", () => {
    let r = applyAnswer(NO_RESULTS, answer(0, "running", [], [provider("A", "pending"), provider("B", "pending")]));
    expect(r.status).toBe("running");
    r = applyAnswer(r, answer(1, "running", [live("x", 40000), live("y", 35000, "2026-12-18T13:05:00")], [provider("A", "complete", { offers: 2 }), provider("B", "pending")]));
    r = applyAnswer(r, answer(2, "complete", [live("x", 38000)], [provider("A", "complete"), provider("B", "complete")]));
    expect(r.status).toBe("complete");
    expect(sortedLive(r).map((i) => [i.id, i.price.minor])).toEqual([
      ["y", 35000],
      ["x", 38000],
    ]);
    // A repeat of an older answer changes nothing.
    expect(applyAnswer(r, answer(1, "running", [live("x", 40000)], []))).toBe(r);
  });

  it("find the Browse result for the same flights, whatever number they are sold under", () => {
    const browse = {
      slices: [{ segments: [{ origin: "LHR", destination: "JFK", carrier: "BA", flight: "BA117", departure: { local: "2026-12-18T09:05:00+00:00" } }] }],
    } as unknown as Itinerary;
    const r = applyAnswer(NO_RESULTS, answer(1, "running", [live("x", 1), live("y", 2, "2026-12-18T13:05:00")], []));
    expect(byFlights(r).get(browseKey(browse))?.id).toBe("x");
    expect(liveKey(live("z", 1))).toBe(browseKey(browse));
  });

  it("say what each provider's state means", () => {
    expect(providerText(provider("A", "complete", { offers: 57, elapsed_ms: 1234 }))).toBe("57 offers in 1.2 s");
    expect(providerText(provider("A", "failed", { error: { code: "provider_unreachable", message: "" } }))).toBe("Failed: could not be reached");
    expect(providerText(provider("A", "timed_out", { elapsed_ms: 20000 }))).toBe("Timed out in 20.0 s");
    expect(progress(provider("A", "pending"), 10_000)).toBe(50);
    expect(progress(provider("A", "pending"), 60_000)).toBe(95);
    expect(progress(provider("A", "failed"), 1_000)).toBe(100);
  });
});

describe("the live summary", () => {
  it("counts answers with offers, empty answers, failures and timeouts apart", () => {
    const both = [provider("SkyHub", "timed_out", { elapsed_ms: 20_000 }), provider("FareFinder", "timed_out", { elapsed_ms: 20_000 })];
    expect(liveSummary(both, 0)).toBe("0 of 2 providers offered flights, 2 timed out · 0 itineraries priced live");
    const mixed = [provider("SkyHub", "complete", { offers: 0 }), provider("FareFinder", "complete", { offers: 12 }), provider("X", "failed")];
    expect(liveSummary(mixed, 9)).toBe("1 of 3 providers offered flights, 1 had none, 1 failed · 9 itineraries priced live");
  });

  it("draws an empty answer apart from one with offers", () => {
    expect(tone(provider("SkyHub", "complete", { offers: 0 }))).toBe("empty");
    expect(tone(provider("SkyHub", "complete", { offers: 3 }))).toBe("offers");
    expect(tone(provider("SkyHub", "timed_out"))).toBe("problem");
  });
});
