// The URL holds the whole search (trip, party, cabin, filters, sort), so a results page can be
// shared and reloaded. Parameter names are the API's, so filters pass straight through.

import type { SearchForm, TripType, Cabin } from "./validation";
import { CABINS } from "./validation";

export const FILTER_KEYS = [
  "max_stops",
  "carriers",
  "alliances",
  "layovers",
  "exclude_layovers",
  "depart_time",
  "arrive_time",
  "max_duration_hours",
  "max_price",
] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];
export type Filters = Partial<Record<FilterKey, string>>;
export type Sort = "best" | "cheapest" | "fastest";

export interface SearchState {
  form: SearchForm;
  filters: Filters;
  sort: Sort;
}

export function emptyForm(): SearchForm {
  return {
    trip: "return",
    origin: "",
    destination: "",
    depart: "",
    return: "",
    slices: [
      { origin: "", destination: "", date: "" },
      { origin: "", destination: "", date: "" },
    ],
    adults: 1,
    children: 0,
    infants: 0,
    cabin: "economy",
  };
}

export function toQuery(s: SearchState): URLSearchParams {
  const q = new URLSearchParams();
  const f = s.form;
  q.set("trip", f.trip);
  if (f.trip === "multi") {
    q.set("slices", f.slices.map((x) => `${x.origin.toUpperCase()}-${x.destination.toUpperCase()}-${x.date}`).join(","));
  } else {
    q.set("origin", f.origin.toUpperCase());
    q.set("destination", f.destination.toUpperCase());
    q.set("depart", f.depart);
    if (f.trip === "return") q.set("return", f.return);
  }
  q.set("adults", String(f.adults));
  if (f.children) q.set("children", String(f.children));
  if (f.infants) q.set("infants", String(f.infants));
  q.set("cabin", f.cabin);
  for (const k of FILTER_KEYS) {
    const v = s.filters[k];
    if (v !== undefined && v !== "") q.set(k, v);
  }
  if (s.sort !== "best") q.set("sort", s.sort);
  return q;
}

function int(v: string | null, dflt: number): number {
  const n = v === null ? NaN : Number.parseInt(v, 10);
  return Number.isFinite(n) ? n : dflt;
}

export function fromQuery(q: URLSearchParams): SearchState {
  const form = emptyForm();
  const trip = q.get("trip");
  form.trip = (["oneway", "return", "multi"] as TripType[]).includes(trip as TripType)
    ? (trip as TripType)
    : q.get("return")
      ? "return"
      : "oneway";
  if (form.trip === "multi") {
    const slices = (q.get("slices") ?? "")
      .split(",")
      .filter(Boolean)
      .map((s) => {
        const [origin = "", destination = "", ...date] = s.split("-");
        return { origin, destination, date: date.join("-") };
      });
    if (slices.length) form.slices = slices;
  } else {
    form.origin = q.get("origin") ?? "";
    form.destination = q.get("destination") ?? "";
    form.depart = q.get("depart") ?? "";
    form.return = q.get("return") ?? "";
  }
  form.adults = int(q.get("adults"), 1);
  form.children = int(q.get("children"), 0);
  form.infants = int(q.get("infants"), 0);
  const cabin = q.get("cabin");
  form.cabin = (CABINS as readonly string[]).includes(cabin ?? "") ? (cabin as Cabin) : "economy";
  const filters: Filters = {};
  for (const k of FILTER_KEYS) {
    const v = q.get(k);
    if (v !== null && v !== "") filters[k] = v;
  }
  const sort = q.get("sort");
  return { form, filters, sort: sort === "cheapest" || sort === "fastest" ? sort : "best" };
}

/** The API request for a search state: a GET query, or a POST body for multi-city. */
export function apiRequest(
  s: SearchState,
  cursor?: string,
  limit = 20,
): { path: string; body?: Record<string, unknown> } {
  if (s.form.trip !== "multi") {
    const q = toQuery(s);
    q.delete("trip");
    q.set("sort", s.sort);
    q.set("limit", String(limit));
    if (cursor) q.set("cursor", cursor);
    return { path: `/search?${q.toString()}` };
  }
  const body: Record<string, unknown> = {
    slices: s.form.slices.map((x) => ({ origin: x.origin.toUpperCase(), destination: x.destination.toUpperCase(), date: x.date })),
    adults: s.form.adults,
    children: s.form.children,
    infants: s.form.infants,
    cabin: s.form.cabin,
    sort: s.sort,
    limit,
  };
  if (cursor) body.cursor = cursor;
  const f = s.filters;
  if (f.max_stops) body.max_stops = Number(f.max_stops);
  for (const k of ["carriers", "alliances", "layovers", "exclude_layovers"] as const) if (f[k]) body[k] = f[k]!.split(",");
  for (const k of ["depart_time", "arrive_time"] as const) if (f[k]) body[k] = f[k];
  if (f.max_duration_hours) body.max_duration_hours = Number(f.max_duration_hours);
  if (f.max_price) body.max_price = Number(f.max_price);
  return { path: "/search", body };
}
