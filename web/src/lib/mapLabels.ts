// Where a map's labels go: greedy placement in priority order (the cheapest destinations
// first), each label to the right of its point or else to its left, kept only where it
// covers no other label, no marker but its own, and stays inside the map.

export type Box = { x: number; y: number; w: number; h: number };

export function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

export type LabelWish<K> = { key: K; x: number; y: number; width: number };
export type PlacedLabel<K> = { key: K; box: Box; anchor: "start" | "end" };

export function placeLabels<K>(
  wishes: LabelWish<K>[],
  { height, radius, max, width, bottom, markers }: { height: number; radius: number; max: number; width: number; bottom: number; markers: (Box & { key?: K })[] },
): PlacedLabel<K>[] {
  const placed: PlacedLabel<K>[] = [];
  for (const w of wishes) {
    if (placed.length >= max) break;
    const gap = radius + 3;
    const candidates: [Box, "start" | "end"][] = [
      [{ x: w.x + gap, y: w.y - height / 2, w: w.width, h: height }, "start"],
      [{ x: w.x - gap - w.width, y: w.y - height / 2, w: w.width, h: height }, "end"],
    ];
    for (const [box, anchor] of candidates) {
      const inside = box.x >= 0 && box.y >= 0 && box.x + box.w <= width && box.y + box.h <= bottom;
      const free = placed.every((p) => !overlaps(p.box, box)) && markers.every((m) => m.key === w.key || !overlaps(m, box));
      if (inside && free) {
        placed.push({ key: w.key, box, anchor });
        break;
      }
    }
  }
  return placed;
}
