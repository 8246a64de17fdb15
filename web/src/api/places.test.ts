import { describe, expect, it, vi } from "vitest";

process.env.NEXT_PUBLIC_API_BASE = "http://api.test";
const { resolvePlace } = await import("./places");

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
