// What the price calendar's month grid shows per departure day: the cheapest one-way fare,
// or — when a trip length is given — the cheapest *return* leaving that day (over the lengths
// asked for), with the return date the day's link must carry.

import type { CalendarResponse, Price } from "@/api/types";

export interface DayOffer {
  price: Price;
  /** Set for a return: the date of the cheapest return leaving that day. */
  returnDate?: string;
}

export function monthOffers(data: CalendarResponse): Map<string, DayOffer> {
  const out = new Map<string, DayOffer>();
  if (data.grid.length) {
    for (const cell of data.grid) {
      if (!cell.price) continue;
      const best = out.get(cell.depart);
      if (!best || cell.price.minor < best.price.minor) out.set(cell.depart, { price: cell.price, returnDate: cell.return });
    }
    return out;
  }
  for (const day of data.days) {
    if (day.price) out.set(day.date, { price: day.price });
  }
  return out;
}

/** Nights as typed ("4", "3..7" or "3-7") in the API's form, or null if not a trip length. */
export function parseNights(typed: string): string | null {
  const m = /^\s*(\d{1,2})\s*(?:(?:\.\.|-|–)\s*(\d{1,2}))?\s*$/.exec(typed);
  if (!m) return null;
  return m[2] ? `${m[1]}..${m[2]}` : m[1];
}

/** Why a day without a price has none: gone, not on sale yet, or nothing flies. */
export function emptyDayLabel(date: string, bookableFrom: string, bookableTo: string): string {
  if (date < bookableFrom) return "past";
  if (date > bookableTo) return "not on sale yet";
  return "no flights";
}

/** Every month (`YYYY-MM`) from the one holding `from` to the one holding `to`, in order. */
export function monthsBetween(from: string, to: string): string[] {
  const out: string[] = [];
  let [y, m] = from.slice(0, 7).split("-").map(Number);
  const last = to.slice(0, 7);
  for (let guard = 0; guard < 240; guard++) {
    const month = `${y}-${String(m).padStart(2, "0")}`;
    if (month > last) break;
    out.push(month);
    m += 1;
    if (m > 12) [y, m] = [y + 1, 1];
  }
  return out;
}
