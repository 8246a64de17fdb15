import { describe, expect, it } from "vitest";
import { emptyDayLabel, monthOffers, monthsBetween, parseNights } from "./calendar";
import type { CalendarResponse } from "@/api/types";

const price = (minor: number) => ({ amount: (minor / 100).toFixed(2), currency: "EUR", minor });

describe("price calendar", () => {
  it("shows return prices (not one-way ones) when a trip length is asked, with the return date", () => {
    const data: CalendarResponse = {
      currency: "EUR",
      days: [
        { date: "2026-12-06", price: price(5000), duration_minutes: 120, stops: 0 },
        { date: "2026-12-07", price: price(6000), duration_minutes: 120, stops: 0 },
      ],
      grid: [
        { depart: "2026-12-06", nights: 3, return: "2026-12-09", price: price(17200) },
        { depart: "2026-12-06", nights: 4, return: "2026-12-10", price: price(13500) },
        { depart: "2026-12-07", nights: 3, return: "2026-12-10", price: null },
      ],
      cheapest: null,
      inventory: { version: 0, as_of: "2026-12-01T10:00:00Z" },
      engine_micros: 1,
    };
    const offers = monthOffers(data);
    expect(offers.get("2026-12-06")).toEqual({ price: price(13500), returnDate: "2026-12-10" });
    expect(offers.has("2026-12-07")).toBe(false);
    const oneWay = monthOffers({ ...data, grid: [] });
    expect(oneWay.get("2026-12-07")).toEqual({ price: price(6000) });
  });

  it("reads trip lengths as people type them", () => {
    expect(parseNights("4")).toBe("4");
    expect(parseNights("3..7")).toBe("3..7");
    expect(parseNights("3-7")).toBe("3..7");
    expect(parseNights(" 3 – 7 ")).toBe("3..7");
    expect(parseNights("a week")).toBeNull();
  });
});

describe("days without a price", () => {
  it("say whether they are past, not on sale yet, or without flights", () => {
    expect(emptyDayLabel("2026-11-30", "2026-12-01", "2027-01-04")).toBe("past");
    expect(emptyDayLabel("2027-01-05", "2026-12-01", "2027-01-04")).toBe("not on sale yet");
    expect(emptyDayLabel("2026-12-10", "2026-12-01", "2027-01-04")).toBe("no flights");
  });
});

describe("the month picker", () => {
  it("offers every month on sale, not only the first and the last", () => {
    const months = monthsBetween("2026-12-08", "2027-11-04");
    expect(months).toHaveLength(12);
    expect(months[0]).toBe("2026-12");
    expect(months[1]).toBe("2027-01");
    expect(months.at(-1)).toBe("2027-11");
    expect(monthsBetween("2026-12-08", "2026-12-30")).toEqual(["2026-12"]);
  });
});
