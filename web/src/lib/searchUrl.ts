// The URL holds the whole search (trip, party, cabin, filters, sort), so a results page can be
// shared and reloaded. Parameter names are the API's, so filters pass straight through.

import type { SearchForm, TripType, Cabin } from "./validation";
import type { SearchRequest } from "@/api/search";
import type { Schemas } from "@/api/client";

type AllianceName = Schemas["AllianceName"];
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
export function apiRequest(s: SearchState, cursor?: string, limit = 20, currency?: string): SearchRequest {
  const f = s.filters;
  const list = (k: "carriers" | "alliances" | "layovers" | "exclude_layovers") => (f[k] ? f[k]!.split(",") : undefined);
  const num = (v: string | undefined) => (v ? Number(v) : undefined);
  const common = {
    adults: s.form.adults,
    children: s.form.children || undefined,
    infants: s.form.infants || undefined,
    cabin: s.form.cabin,
    sort: s.sort,
    limit,
    cursor,
    currency,
    max_stops: num(f.max_stops),
    carriers: list("carriers"),
    alliances: list("alliances") as AllianceName[] | undefined,
    layovers: list("layovers"),
    exclude_layovers: list("exclude_layovers"),
    depart_time: f.depart_time || undefined,
    arrive_time: f.arrive_time || undefined,
    max_duration_hours: num(f.max_duration_hours),
    max_price: num(f.max_price),
  };
  if (s.form.trip === "multi") {
    return {
      body: {
        ...common,
        slices: s.form.slices.map((x) => ({ origin: x.origin.toUpperCase(), destination: x.destination.toUpperCase(), date: x.date })),
      },
    };
  }
  return {
    query: {
      ...common,
      origin: s.form.origin.toUpperCase(),
      destination: s.form.destination.toUpperCase(),
      depart: s.form.depart,
      return: s.form.trip === "return" && s.form.return ? s.form.return : undefined,
    },
  };
}
