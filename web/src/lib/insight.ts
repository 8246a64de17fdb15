// Where a price stands against the typical range of its route and dates (the first and third
// quartiles pricing reports): below it low, above it high, else typical — as the API labels.

export type Label = "low" | "typical" | "high";

export function labelFor(minor: number, typicalLow: number, typicalHigh: number): Label {
  if (minor < typicalLow) return "low";
  if (minor > typicalHigh) return "high";
  return "typical";
}

export const LABEL_TEXT: Record<Label, string> = { low: "Low price", typical: "Typical price", high: "High price" };

/** Tailwind classes of a label's badge (contrast checked by axe in the browser tests). */
export const LABEL_CLASS: Record<Label, string> = {
  low: "bg-emerald-100 text-emerald-900",
  typical: "bg-slate-100 text-slate-800",
  high: "bg-rose-100 text-rose-900",
};

/** An SVG polyline's points for `values` in a `width` × `height` box, scaled to `extent`
 *  (default: the values themselves; the lowest at the bottom). */
export function sparkline(values: number[], width: number, height: number, extent: number[] = values, pad = 4): { points: string; min: number; max: number; y: (v: number) => number } {
  const min = Math.min(...extent);
  const max = Math.max(...extent);
  const span = max - min || 1;
  const y = (v: number) => pad + (height - 2 * pad) * (1 - (v - min) / span);
  const step = values.length > 1 ? (width - 2 * pad) / (values.length - 1) : 0;
  const points = values.map((v, i) => `${(pad + i * step).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
  return { points, min, max, y };
}
