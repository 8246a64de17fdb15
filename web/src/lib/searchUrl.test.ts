import { describe, expect, it } from "vitest";
import { apiRequest, emptyForm, fromQuery, toQuery, type SearchState } from "./searchUrl";

const state: SearchState = {
  form: { ...emptyForm(), trip: "return", origin: "lon", destination: "NYC", depart: "2026-12-10", return: "2026-12-17", adults: 2, children: 1, cabin: "business" },
  filters: { max_stops: "1", carriers: "BA,AA", depart_time: "06:00-12:00" },
  sort: "cheapest",
};

describe("the URL holds the whole search", () => {
  it("round-trips", () => {
    const q = toQuery(state);
    expect(q.get("origin")).toBe("LON");
    const back = fromQuery(new URLSearchParams(q.toString()));
    expect(back.form).toMatchObject({ trip: "return", origin: "LON", destination: "NYC", adults: 2, children: 1, infants: 0, cabin: "business" });
    expect(back.filters).toEqual(state.filters);
    expect(back.sort).toBe("cheapest");
  });
  it("round-trips multi-city", () => {
    const multi: SearchState = {
      form: {
        ...emptyForm(),
        trip: "multi",
        slices: [
          { origin: "LHR", destination: "CDG", date: "2026-12-05" },
          { origin: "CDG", destination: "FRA", date: "2026-12-08" },
        ],
      },
      filters: {},
      sort: "best",
    };
    const back = fromQuery(new URLSearchParams(toQuery(multi).toString()));
    expect(back.form.slices).toEqual(multi.form.slices);
  });
  it("ignores what it does not know", () => {
    const s = fromQuery(new URLSearchParams("origin=LHR&cabin=deluxe&sort=random&adults=x&foo=1"));
    expect(s.form.cabin).toBe("economy");
    expect(s.sort).toBe("best");
    expect(s.form.adults).toBe(1);
    expect(s.form.trip).toBe("oneway");
  });
});

describe("API requests", () => {
  it("are GET queries for one-way and return trips", () => {
    const r = apiRequest(state, "CUR", 20);
    if (!("query" in r)) throw new Error("expected a GET");
    expect(r.query).toMatchObject({ origin: "LON", return: "2026-12-17", carriers: ["BA", "AA"], cursor: "CUR", sort: "cheapest", limit: 20 });
    expect("trip" in r.query).toBe(false);
  });
  it("are POST bodies for multi-city, filters typed", () => {
    const r = apiRequest({ ...state, form: { ...state.form, trip: "multi", slices: [{ origin: "lhr", destination: "cdg", date: "2026-12-05" }] } });
    if (!("body" in r)) throw new Error("expected a POST");
    expect(r.body).toMatchObject({
      slices: [{ origin: "LHR", destination: "CDG", date: "2026-12-05" }],
      max_stops: 1,
      carriers: ["BA", "AA"],
      depart_time: "06:00-12:00",
      sort: "cheapest",
    });
  });
});
