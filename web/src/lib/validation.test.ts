import { describe, expect, it } from "vitest";
import { formField, nestErrors, placeCode, preferencesSchema, registerSchema, resetSchema, validateSearch } from "./validation";
import { emptyForm } from "./searchUrl";

const window = { from: "2026-12-01", to: "2027-01-04" };

function form(patch: Partial<ReturnType<typeof emptyForm>>) {
  return { ...emptyForm(), origin: "LHR", destination: "JFK", depart: "2026-12-10", return: "2026-12-17", ...patch };
}

describe("search form rules (the API's)", () => {
  it("accepts a valid return trip", () => {
    expect(validateSearch(form({}), window)).toEqual({});
  });
  it("names each bad field", () => {
    const e = validateSearch(form({ origin: "London", destination: "", depart: "2026-11-20", return: "2026-12-05", adults: 0 }), window);
    expect(Object.keys(e).sort()).toEqual(["adults", "destination", "origin", "depart"].sort());
  });
  it("refuses the same place twice, dates out of sale and returns before departures", () => {
    expect(validateSearch(form({ destination: "lhr" }), window).destination).toMatch(/other than the origin/);
    expect(validateSearch(form({ depart: "2027-02-01", return: "2027-02-03" }), window).depart).toMatch(/on sale until/);
    expect(validateSearch(form({ return: "2026-12-09" }), window).return).toMatch(/not be before/);
    expect(validateSearch(form({ trip: "oneway", return: "" }), window)).toEqual({});
  });
  it("limits the party like the API", () => {
    expect(validateSearch(form({ adults: 5, children: 5 }), window).adults).toMatch(/9 seated/);
    expect(validateSearch(form({ adults: 1, infants: 2 }), window).infants).toMatch(/needs an adult/);
  });
  it("checks every multi-city flight in order", () => {
    const slices = [
      { origin: "LHR", destination: "CDG", date: "2026-12-05" },
      { origin: "CDG", destination: "CDG", date: "2026-12-04" },
    ];
    const e = validateSearch(form({ trip: "multi", slices }), window);
    expect(e["slices.1.destination"]).toBeDefined();
    expect(e["slices.1.date"]).toMatch(/not be before/);
    expect(e["slices.0.origin"]).toBeUndefined();
  });
  it("maps API field names to form paths and nests them", () => {
    expect(formField("slices[1].origin")).toBe("slices.1.origin");
    expect(nestErrors({ origin: "a", "slices.1.date": "b" })).toEqual({
      origin: { type: "validate", message: "a" },
      slices: [undefined, { date: { type: "validate", message: "b" } }],
    });
  });
  it("reads the code out of an autocomplete choice", () => {
    expect(placeCode("London (LON)")).toBe("LON");
    expect(placeCode(" jfk ")).toBe("JFK");
    expect(placeCode("Londn")).toBe("Londn");
  });
});

describe("account forms", () => {
  it("apply the password policy's length limits", () => {
    expect(registerSchema.safeParse({ email: "a@b.co", password: "short", display_name: "A" }).success).toBe(false);
    expect(registerSchema.safeParse({ email: "a@b.co", password: "x".repeat(129), display_name: "A" }).success).toBe(false);
    expect(registerSchema.safeParse({ email: "not-an-email", password: "long enough!", display_name: "A" }).success).toBe(false);
    expect(registerSchema.safeParse({ email: "a@b.co", password: "long enough!", display_name: " " }).success).toBe(false);
    expect(registerSchema.safeParse({ email: "a@b.co", password: "long enough!", display_name: "Ada" }).success).toBe(true);
    expect(registerSchema.safeParse({ email: "a@b.co", password: "eleven char", display_name: "Ada" }).success).toBe(false);
  });

  it("refuse display names that are not one printable line", () => {
    for (const name of ["Ada\nOpen https://evil.example", "nul\u0000", "rtl\u202eevil", "zero\u200bwidth"]) {
      expect(registerSchema.safeParse({ email: "a@b.co", password: "long enough!", display_name: name }).success).toBe(false);
    }
    expect(registerSchema.safeParse({ email: "a@b.co", password: "long enough!", display_name: "Zoë Ødegård 李雷" }).success).toBe(true);
  });
  it("require the repeated password to match", () => {
    const r = resetSchema.safeParse({ new_password: "long enough!", confirm: "long enougH!" });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0].path).toEqual(["confirm"]);
  });
  it("check preferences like the API", () => {
    const ok = {
      home_airport: "lhr",
      currency: "eur",
      cabin: "economy",
      adults: "2",
      children: "0",
      infants: "0",
      min_hours: "2",
      max_hours: "4",
      budget: "",
      price_alerts: true,
      deals: false,
      newsletter: false,
    };
    const parsed = preferencesSchema.parse(ok);
    expect(parsed.home_airport).toBe("LHR");
    expect(parsed.adults).toBe(2);
    expect(preferencesSchema.safeParse({ ...ok, min_hours: "5", max_hours: "2" }).success).toBe(false);
    expect(preferencesSchema.safeParse({ ...ok, infants: "3" }).success).toBe(false);
    expect(preferencesSchema.safeParse({ ...ok, home_airport: "LONDON" }).success).toBe(false);
  });
});
