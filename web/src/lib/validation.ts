// Form rules, the same as the API's (crates/search/src/parse.rs, crates/users): the form
// refuses what the API would refuse, with the same field names, and the API's own
// problem+json errors are shown at the same fields when they come back.

import { z } from "zod";
import { formatDate } from "./format";

export const CABINS = ["economy", "premium_economy", "business", "first"] as const;
export type Cabin = (typeof CABINS)[number];
/** Each cabin as people read it. */
export const CABIN_LABEL: Record<string, string> = {
  economy: "Economy",
  premium_economy: "Premium economy",
  business: "Business",
  first: "First",
};
export const TRIP_TYPES = ["oneway", "return", "multi"] as const;
export type TripType = (typeof TRIP_TYPES)[number];

const code = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^[A-Z]{3}$/, "Choose an airport or city (e.g. LHR or LON)");
const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "Choose a date");

export interface BookableWindow {
  from: string;
  to: string;
}

export const sliceSchema = z.object({ origin: code, destination: code, date });

export const searchFormSchema = z.object({
  trip: z.enum(TRIP_TYPES),
  origin: z.string(),
  destination: z.string(),
  depart: z.string(),
  return: z.string(),
  slices: z.array(z.object({ origin: z.string(), destination: z.string(), date: z.string() })),
  adults: z.coerce.number().int(),
  children: z.coerce.number().int(),
  infants: z.coerce.number().int(),
  cabin: z.enum(CABINS),
});
export type SearchForm = z.infer<typeof searchFormSchema>;

/** Every problem of a search form, by field (`origin`, `return`, `slices.1.date`, …). */
export function validateSearch(f: SearchForm, window: BookableWindow | null): Record<string, string> {
  const errors: Record<string, string> = {};
  const checkCode = (field: string, v: string) => {
    const r = code.safeParse(v);
    if (!r.success) errors[field] = r.error.issues[0].message;
  };
  const checkDate = (field: string, v: string, after?: string) => {
    if (!date.safeParse(v).success) {
      errors[field] = "Choose a date";
      return;
    }
    if (window && v < window.from) errors[field] = `Choose ${formatDate(window.from)} or later`;
    else if (window && v > window.to) errors[field] = `Flights are on sale until ${formatDate(window.to)}`;
    else if (after && v < after) errors[field] = "This must not be before the previous flight";
  };
  if (f.trip === "multi") {
    if (f.slices.length < 1 || f.slices.length > 6) errors.slices = "A trip has 1 to 6 flights";
    f.slices.forEach((s, i) => {
      checkCode(`slices.${i}.origin`, s.origin);
      checkCode(`slices.${i}.destination`, s.destination);
      if (s.origin && s.origin.toUpperCase() === s.destination.toUpperCase())
        errors[`slices.${i}.destination`] = "Choose a destination other than the origin";
      checkDate(`slices.${i}.date`, s.date, i > 0 ? f.slices[i - 1].date : undefined);
    });
  } else {
    checkCode("origin", f.origin);
    checkCode("destination", f.destination);
    if (!errors.destination && f.origin.trim().toUpperCase() === f.destination.trim().toUpperCase())
      errors.destination = "Choose a destination other than the origin";
    checkDate("depart", f.depart);
    if (f.trip === "return") checkDate("return", f.return, f.depart);
  }
  if (f.adults < 1) errors.adults = "At least one adult must travel";
  else if (f.adults + f.children > 9) errors.adults = "At most 9 seated passengers";
  if (f.children < 0) errors.children = "Cannot be negative";
  if (f.infants < 0) errors.infants = "Cannot be negative";
  else if (f.infants > f.adults) errors.infants = "Each lap infant needs an adult";
  return errors;
}

/** The API names fields `slices[1].origin`; forms name them `slices.1.origin`. */
export function formField(apiField: string): string {
  return apiField.replace(/\[(\d+)\]/g, ".$1");
}

export const passwordSchema = z
  .string()
  .min(12, "Use at least 12 characters")
  .max(128, "Use at most 128 characters");

export const emailSchema = z.string().trim().email("Enter a valid email address");

export const registerSchema = z.object({
  email: emailSchema,
  password: passwordSchema,
  display_name: z
    .string()
    .trim()
    .min(1, "Tell us your name")
    .max(80, "At most 80 characters")
    // Mirrors the API: one line of printable text.
    .refine((v) => !/[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/u.test(v), "Use one line of ordinary characters"),
});

export const loginSchema = z.object({
  email: emailSchema,
  password: z.string().min(1, "Enter your password"),
});

export const resetSchema = z
  .object({ new_password: passwordSchema, confirm: z.string() })
  .refine((v) => v.new_password === v.confirm, { path: ["confirm"], message: "The passwords differ" });

export const preferencesSchema = z
  .object({
    home_airport: z
      .string()
      .trim()
      .toUpperCase()
      .refine((v) => v === "" || /^[A-Z]{3}$/.test(v), "An airport or city code, e.g. LHR"),
    currency: z.string().trim().toUpperCase().regex(/^[A-Z]{3}$/, "An ISO 4217 code, e.g. EUR"),
    cabin: z.enum(CABINS),
    adults: z.coerce.number().int().min(1, "At least one adult").max(9),
    children: z.coerce.number().int().min(0).max(8),
    infants: z.coerce.number().int().min(0).max(9),
    min_hours: z.coerce.number().min(0).max(48),
    max_hours: z.coerce.number().min(0.5).max(48),
    budget: z.string().refine((v) => v === "" || (Number(v) >= 0 && Number(v) <= 1_000_000), "0 to 1,000,000"),
    price_alerts: z.boolean(),
    deals: z.boolean(),
    newsletter: z.boolean(),
  })
  .refine((v) => v.min_hours <= v.max_hours, { path: ["max_hours"], message: "The maximum must not be below the minimum" })
  .refine((v) => v.infants <= v.adults, { path: ["infants"], message: "Each lap infant needs an adult" });

/**
 * The code in an airport field's text: "London (LON)" → "LON", "lhr" → "LHR"; otherwise the
 * text as typed (which validation then refuses).
 */
export function placeCode(text: string): string {
  const t = text.trim();
  const paren = /\(([A-Za-z]{3})\)\s*$/.exec(t);
  if (paren) return paren[1].toUpperCase();
  return /^[A-Za-z]{3}$/.test(t) ? t.toUpperCase() : t;
}

/** Flat errors (`slices.1.date`) as the nested shape react-hook-form expects. */
export function nestErrors(flat: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, message] of Object.entries(flat)) {
    const path = field.split(".");
    let node: Record<string, unknown> = out;
    for (let i = 0; i < path.length - 1; i++) {
      const k = path[i];
      node[k] ??= /^\d+$/.test(path[i + 1]) ? [] : {};
      node = node[k] as Record<string, unknown>;
    }
    node[path[path.length - 1]] = { type: "validate", message };
  }
  return out;
}
