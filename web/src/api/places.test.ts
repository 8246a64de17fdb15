import { describe, expect, it, vi } from "vitest";

process.env.NEXT_PUBLIC_API_BASE = "http://api.test";
const { placeLabel, resolvePlace } = await import("./places");

const place = (code: string, best_match: boolean) => ({
  kind: "city",
  code,
  name: code,
  city: code,
  country: "GB",
  country_name: "United Kingdom",
  airports: [],
  best_match,
});

describe("free text", () => {
  it("is taken when the API says it names one place, and asked for once", async () => {
    const fetch = vi.fn(async (req: Request) => {
      const q = new URL(req.url).searchParams.get("q");
      const body = q === "London" ? [place("LON", true), place("LHR", false)] : [place("LGW", false)];
      return new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } });
    });
    vi.stubGlobal("fetch", fetch);
    expect(await resolvePlace("London")).toBe("LON");
    expect(await resolvePlace(" london ")).toBe("LON");
    expect(await resolvePlace("Lon")).toBeNull();
    expect(fetch).toHaveBeenCalledTimes(2);
  });
});

describe("a place in a form field", () => {
  const airport = (code: string, name: string, city: string) => ({ kind: "airport" as const, code, name, city });
  it("names a city by its name and an airport without the generic words, after its city", () => {
    expect(placeLabel({ kind: "city", code: "LON", name: "London", city: "London" })).toBe("London (LON)");
    expect(placeLabel(airport("LHR", "London Heathrow Airport", "London"))).toBe("London Heathrow (LHR)");
    expect(placeLabel(airport("JFK", "John F Kennedy International Airport", "New York"))).toBe("New York John F Kennedy (JFK)");
    expect(placeLabel(airport("MUC", "Munich Airport", "Munich"))).toBe("Munich (MUC)");
    expect(placeLabel(airport("BCN", "Barcelona International Airport", "Barcelona"))).toBe("Barcelona (BCN)");
    expect(placeLabel(airport("XXX", "Airport", "Somewhere"))).toBe("Somewhere (XXX)");
  });
});
