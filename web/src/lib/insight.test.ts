import { describe, expect, it } from "vitest";
import { labelFor, sparkline } from "./insight";

describe("labelFor", () => {
  it("is low under the first quartile, high over the third, typical between (both ends typical)", () => {
    expect(labelFor(9_999, 10_000, 20_000)).toBe("low");
    expect(labelFor(10_000, 10_000, 20_000)).toBe("typical");
    expect(labelFor(20_000, 10_000, 20_000)).toBe("typical");
    expect(labelFor(20_001, 10_000, 20_000)).toBe("high");
  });
});

describe("sparkline", () => {
  it("spreads the points over the width with the lowest value at the bottom", () => {
    const { points, min, max } = sparkline([300, 100, 200], 108, 58);
    expect([min, max]).toEqual([100, 300]);
    expect(points).toBe("4.0,4.0 54.0,54.0 104.0,29.0");
  });
  it("draws a flat line for one value", () => {
    expect(sparkline([5], 10, 10).points).toBe("4.0,6.0");
  });
});
