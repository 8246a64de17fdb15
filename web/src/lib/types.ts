// Wire types of the Spontra API (see /api/v1/openapi.json).

export interface Price {
  amount: string;
  currency: string;
  minor: number;
}

export interface Moment {
  local: string; // 2026-12-10T08:05:00+00:00
  utc: string;
  utc_offset_minutes: number;
}

export interface Segment {
  carrier: string;
  carrier_name: string;
  flight: string;
  origin: string;
  destination: string;
  departure: Moment;
  arrival: Moment;
  duration_minutes: number;
  aircraft: string;
  distance_km: number;
  cabin: string;
}

export interface Layover {
  arrival_airport: string;
  departure_airport: string;
  duration_minutes: number;
  self_transfer: boolean;
  airport_change: boolean;
}

export interface Slice {
  origin: string;
  destination: string;
  departure: Moment;
  arrival: Moment;
  duration_minutes: number;
  stops: number;
  arrival_day_offset: number;
  self_transfer: boolean;
  airport_change: boolean;
  segments: Segment[];
  layovers: Layover[];
}

export interface PassengerPrice {
  passenger_type: "adult" | "child" | "infant";
  count: number;
  each: Price;
}

export interface Itinerary {
  id: string;
  price: Price;
  price_breakdown: PassengerPrice[];
  duration_minutes: number;
  stops: number;
  pareto: boolean;
  score: number;
  co2_kg: number;
  typical_co2_kg: number;
  slices: Slice[];
}

export interface SortSummary {
  price: Price;
  duration_minutes: number;
}

export interface FacetValue {
  value: string;
  label: string;
  count: number;
  min_price: Price;
}

export interface Facets {
  stops: FacetValue[];
  carriers: FacetValue[];
  alliances: FacetValue[];
  layovers: FacetValue[];
  price_min: Price | null;
  price_max: Price | null;
  duration_min_minutes: number | null;
  duration_max_minutes: number | null;
}

export interface SearchResponse {
  currency: string;
  sort: "best" | "cheapest" | "fastest";
  summary: {
    total: number;
    best: SortSummary | null;
    cheapest: SortSummary | null;
    fastest: SortSummary | null;
  };
  facets: Facets;
  itineraries: Itinerary[];
  next_cursor: string | null;
  engine_micros: number;
}

export interface CalendarDay {
  date: string;
  price: Price | null;
  duration_minutes: number | null;
  stops: number | null;
}

export interface CalendarCell {
  depart: string;
  nights: number;
  /** The return date (the API names it `return`). */
  return: string;
  price: Price | null;
}

export interface CalendarResponse {
  currency: string;
  days: CalendarDay[];
  grid: CalendarCell[];
  cheapest: CalendarDay | null;
  engine_micros: number;
}

export interface Place {
  kind: "airport" | "city";
  code: string;
  name: string;
  city: string;
  city_code: string | null;
  country: string;
  country_name: string;
  lat: number | null;
  lon: number | null;
  time_zone: string | null;
  size: string | null;
  airports: string[];
}

export interface ExploreDestination {
  airport: Place;
  price: Price;
  duration_minutes: number;
  stops: number;
  departure: Moment;
  arrival: Moment;
  flights: string[];
  co2_kg: number;
}

export interface ExploreResponse {
  currency: string;
  origin: string;
  total: number;
  destinations: ExploreDestination[];
  groups: { country: string; country_name: string; cheapest: Price; destinations: ExploreDestination[] }[];
  next_cursor: string | null;
  engine_micros: number;
}

export interface Ready {
  status: string;
  bookable_from: string;
  bookable_to: string;
}

export interface FieldError {
  field: string;
  code: string;
  message: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: FieldError[];
}

export interface Profile {
  id: string;
  email: string;
  display_name: string;
  role: "user" | "admin";
  email_verified: boolean;
  created_at: string;
}

export interface Preferences {
  home_airport: string | null;
  currency: string;
  cabin: string;
  adults: number;
  children: number;
  infants: number;
  trip_hours: { min: number; max: number } | null;
  budget: number | null;
  notifications: { price_alerts: boolean; deals: boolean; newsletter: boolean };
}

export interface SessionInfo {
  id: string;
  created_at: string;
  last_used_at: string;
  expires_at: string;
  user_agent: string;
  ip: string;
  current: boolean;
}

export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  /** Absent when the refresh token was set as an HttpOnly cookie (`session_cookie`). */
  refresh_token?: string;
  session_id: string;
}

/** The password step's 202: the account asks for its second factor. */
export interface SecondFactorChallenge {
  two_factor_required: true;
  challenge: string;
  expires_in: number;
}

export interface TwoFactorStatus {
  enabled: boolean;
  recovery_codes_left: number;
}

export interface TwoFactorSetup {
  secret: string;
  otpauth_uri: string;
}
