// A green → amber → red scale for prices: where a price sits between the cheapest and the
// dearest shown. Colours are dark enough for white text at WCAG AA.

const STOPS = ["#047857", "#4d7c0f", "#a16207", "#c2410c", "#b91c1c"];

export function priceColour(value: number, min: number, max: number): string {
  if (!(max > min)) return STOPS[0];
  const t = Math.min(1, Math.max(0, (value - min) / (max - min)));
  return STOPS[Math.min(STOPS.length - 1, Math.floor(t * STOPS.length))];
}

/** Which fifth of the range a price falls in (0 cheapest … 4 dearest), for legends and tests. */
export function priceBand(value: number, min: number, max: number): number {
  return STOPS.indexOf(priceColour(value, min, max));
}

export const PRICE_SCALE = STOPS;
