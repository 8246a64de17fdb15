import { describe, expect, it } from "vitest";
import { addDays, co2Comparison, describeDevice, dayMarker, dayOffset, formatDay, formatDuration, formatMoney, localDate, localTime, minutesToClock, priceFreshness, readableDates, stopsText } from "./format";

describe("durations", () => {
  it("reads as hours and minutes", () => {
    expect(formatDuration(0)).toBe("0m");
    expect(formatDuration(45)).toBe("45m");
    expect(formatDuration(120)).toBe("2h");
    expect(formatDuration(135)).toBe("2h 15m");
    expect(formatDuration(25 * 60 + 5)).toBe("25h 5m");
  });
});

describe("local times across midnight and time zones", () => {
  // LHR 21:40 (UTC+0) → SIN 17:50 next day (UTC+8): the wall clocks, not UTC, are shown.
  const dep = "2026-12-10T21:40:00+00:00";
  const arr = "2026-12-11T17:50:00+08:00";
  it("shows the airport's wall-clock time", () => {
    expect(localTime(dep)).toBe("21:40");
    expect(localTime(arr)).toBe("17:50");
    expect(localDate(arr)).toBe("2026-12-11");
  });
  it("marks arrivals on a later or earlier local day", () => {
    expect(dayOffset(dep, arr)).toBe(1);
    expect(dayMarker(dayOffset(dep, arr))).toBe("+1");
    // Westbound over the date line: leave Tokyo on the 11th, land in Honolulu on the 10th.
    expect(dayOffset("2026-12-11T21:00:00+09:00", "2026-12-10T09:00:00-10:00")).toBe(-1);
    expect(dayMarker(-1)).toBe("-1");
    expect(dayMarker(0)).toBe("");
    // Month and year ends.
    expect(dayOffset("2026-12-31T23:00:00-05:00", "2027-01-02T06:00:00+08:00")).toBe(2);
  });
  it("counts days on the calendar, not in the browser's zone", () => {
    expect(addDays("2026-12-30", 3)).toBe("2027-01-02");
    expect(addDays("2026-03-01", -1)).toBe("2026-02-28");
    expect(formatDay("2026-12-10")).toBe("Thu 10 Dec");
  });
  it("writes clock times", () => {
    expect(minutesToClock(0)).toBe("00:00");
    expect(minutesToClock(6 * 60 + 5)).toBe("06:05");
    expect(minutesToClock(1440)).toBe("24:00");
  });
});

describe("money", () => {
  it("formats minor units in the currency's own digits", () => {
    expect(formatMoney(123450, "EUR")).toBe("€1,234.50");
    expect(formatMoney(123450, "EUR", { whole: true })).toBe("€1,235");
    expect(formatMoney(1500, "JPY")).toBe("JP¥1,500");
    expect(formatMoney(12345, "KWD")).toBe("KWD\u00a012.345");
    expect(formatMoney(99, "USD")).toBe("US$0.99");
  });
});

describe("CO2 against the route's typical value", () => {
  it("says more, less or typical", () => {
    expect(co2Comparison(80, 100)).toEqual({ text: "20% less CO2 than typical", tone: "good" });
    expect(co2Comparison(130, 100)).toEqual({ text: "30% more CO2 than typical", tone: "bad" });
    expect(co2Comparison(101, 100).tone).toBe("neutral");
  });
});

describe("devices", () => {
  it("read as browser and system, not raw user-agent strings", () => {
    expect(describeDevice("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")).toBe("Chrome on Linux");
    expect(describeDevice("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")).toBe("Safari on iPhone");
    expect(describeDevice("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0")).toBe("Firefox on Windows");
    expect(describeDevice("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0")).toBe("Edge on Windows");
    expect(describeDevice("curl/8.5.0")).toBe("curl");
    expect(describeDevice("")).toBe("Unknown device");
    expect(describeDevice("SomeBot/1.0")).toBe("Other app");
  });
});

describe("messages", () => {
  it("write ISO dates for people", () => {
    expect(readableDates("depart: 2026-11-20 is in the past (today is 2026-12-01)")).toBe(
      "depart: Fri 20 Nov 2026 is in the past (today is Tue 1 Dec 2026)",
    );
    expect(readableDates("no dates here")).toBe("no dates here");
  });
});

describe("stops", () => {
  it("are counted in words", () => {
    expect([0, 1, 2].map(stopsText)).toEqual(["nonstop", "1 stop", "2 stops"]);
  });
});

describe("price freshness", () => {
  it("says how long ago a provider reported the price", () => {
    expect([0, 59, 60, 3599, 3600, 47 * 3600, 49 * 3600].map(priceFreshness)).toEqual([
      "Price checked just now",
      "Price checked just now",
      "Price checked 1 min ago",
      "Price checked 59 min ago",
      "Price checked 1 h ago",
      "Price checked 47 h ago",
      "Price checked 2 days ago",
    ]);
  });
  it("names a fare still as scheduled", () => {
    expect(priceFreshness(null)).toBe("Published fare, not yet re-checked by a provider");
    expect(priceFreshness(undefined)).toBe("Published fare, not yet re-checked by a provider");
  });
});
