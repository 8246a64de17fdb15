import { describe, expect, it } from "vitest";
import { overlaps, placeLabels } from "./mapLabels";

const marker = (key: string, x: number, y: number, r = 6) => ({ key, x: x - r, y: y - r, w: 2 * r, h: 2 * r });

describe("map labels", () => {
  it("go right of their point, else left, never over another label or marker, within the map", () => {
    const points = [
      { key: "A", x: 100, y: 100, width: 60 }, // right would cover B's marker: left
      { key: "B", x: 150, y: 100, width: 60 },
      { key: "C", x: 290, y: 50, width: 60 }, // no room on the right: left
      { key: "D", x: 101, y: 140, width: 60 },
      { key: "E", x: 125, y: 100, width: 60 }, // both sides taken: no label
    ];
    const markers = points.map((p) => marker(p.key, p.x, p.y));
    const placed = placeLabels(points, { height: 14, radius: 6, max: 10, width: 300, bottom: 200, markers });
    const byKey = new Map(placed.map((p) => [p.key, p]));
    expect(byKey.get("A")?.anchor).toBe("end");
    expect(byKey.get("B")?.anchor).toBe("start");
    expect(byKey.has("E")).toBe(false);
    expect(byKey.get("C")?.anchor).toBe("end");
    expect(byKey.get("D")?.anchor).toBe("start");
    for (const a of placed) {
      for (const b of placed) if (a !== b) expect(overlaps(a.box, b.box)).toBe(false);
      for (const m of markers) if (m.key !== a.key) expect(overlaps(a.box, m)).toBe(false);
      expect(a.box.x >= 0 && a.box.x + a.box.w <= 300).toBe(true);
    }
  });

  it("stop at the most asked for, in priority order", () => {
    const points = Array.from({ length: 10 }, (_, i) => ({ key: i, x: 10, y: 20 + 30 * i, width: 40 }));
    const placed = placeLabels(points, { height: 14, radius: 6, max: 4, width: 300, bottom: 400, markers: [] });
    expect(placed.map((p) => p.key)).toEqual([0, 1, 2, 3]);
  });
});
