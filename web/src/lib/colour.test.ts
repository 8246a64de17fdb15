import { describe, expect, it } from "vitest";
import { priceBand, priceColour, PRICE_SCALE } from "./colour";

describe("price colours", () => {
  it("run from cheapest to dearest", () => {
    expect(priceBand(100, 100, 200)).toBe(0);
    expect(priceBand(150, 100, 200)).toBe(2);
    expect(priceBand(200, 100, 200)).toBe(PRICE_SCALE.length - 1);
    expect(priceColour(5, 5, 5)).toBe(PRICE_SCALE[0]);
  });
});
