// Formatting shared by every page: durations, local times, day offsets, money.

/** 135 → "2h 15m"; 45 → "45m"; 120 → "2h". */
export function formatDuration(minutes: number): string {
  const m = Math.max(0, Math.round(minutes));
  const h = Math.floor(m / 60);
  const rest = m % 60;
  if (h === 0) return `${rest}m`;
  return rest === 0 ? `${h}h` : `${h}h ${rest}m`;
}

/** The wall-clock time at the airport, "HH:MM", from an ISO time with offset. */
export function localTime(iso: string): string {
  const m = /T(\d{2}):(\d{2})/.exec(iso);
  return m ? `${m[1]}:${m[2]}` : iso;
}

/** The local calendar date "YYYY-MM-DD" of an ISO time with offset. */
export function localDate(iso: string): string {
  return iso.slice(0, 10);
}

/** Whole days between two local dates (arrival's local date minus departure's). */
export function dayOffset(departureIso: string, arrivalIso: string): number {
  const d = Date.UTC(+departureIso.slice(0, 4), +departureIso.slice(5, 7) - 1, +departureIso.slice(8, 10));
  const a = Date.UTC(+arrivalIso.slice(0, 4), +arrivalIso.slice(5, 7) - 1, +arrivalIso.slice(8, 10));
  return Math.round((a - d) / 86_400_000);
}

/** "+1", "+2", "-1" or "" for the same day. */
export function dayMarker(offset: number): string {
  if (offset === 0) return "";
  return offset > 0 ? `+${offset}` : `${offset}`;
}

/** Minor units in a currency → "€1,234.50" (or "€1,235" with `whole`). */
export function formatMoney(minor: number, currency: string, opts: { whole?: boolean; locale?: string } = {}): string {
  const digits = currencyDigits(currency);
  const value = minor / 10 ** digits;
  return new Intl.NumberFormat(opts.locale ?? "en-GB", {
    style: "currency",
    currency,
    minimumFractionDigits: opts.whole ? 0 : digits,
    maximumFractionDigits: opts.whole ? 0 : digits,
  }).format(value);
}

export function currencyDigits(currency: string): number {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** "2027-02" as "February 2027". */
export function formatMonth(month: string, locale = "en-GB"): string {
  const [y, m] = month.split("-").map(Number);
  return new Intl.DateTimeFormat(locale, { month: "long", year: "numeric", timeZone: "UTC" }).format(new Date(Date.UTC(y, m - 1, 1)));
}

/** "2027-11-04" as "4 November 2027". */
export function formatDate(date: string, locale = "en-GB"): string {
  const [y, m, d] = date.split("-").map(Number);
  return new Intl.DateTimeFormat(locale, { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" }).format(new Date(Date.UTC(y, m - 1, d)));
}

/** "Wed 10 Dec" for a YYYY-MM-DD date (no time-zone shift: the date is taken as written). */
export function formatDay(date: string, locale = "en-GB"): string {
  const [y, m, d] = date.split("-").map(Number);
  return new Intl.DateTimeFormat(locale, { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" }).format(
    new Date(Date.UTC(y, m - 1, d)),
  );
}

/** Text with its ISO dates (2026-12-10) written for people ("Thu 10 Dec 2026"). */
export function readableDates(text: string, locale = "en-GB"): string {
  return text.replace(/\b(\d{4})-(\d{2})-(\d{2})\b/g, (iso, y) => `${formatDay(iso, locale)} ${y}`);
}

/** Adds `days` to a YYYY-MM-DD date. */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** "12% less CO2 than typical" / "8% more CO2 than typical" / "Typical CO2". */
export function co2Comparison(kg: number, typicalKg: number): { text: string; tone: "good" | "neutral" | "bad" } {
  if (typicalKg <= 0) return { text: `${Math.round(kg)} kg CO2`, tone: "neutral" };
  const pct = Math.round(((kg - typicalKg) / typicalKg) * 100);
  if (Math.abs(pct) < 3) return { text: "Typical CO2 for this route", tone: "neutral" };
  return pct < 0
    ? { text: `${-pct}% less CO2 than typical`, tone: "good" }
    : { text: `${pct}% more CO2 than typical`, tone: "bad" };
}

/** Minutes since local midnight → "HH:MM" (1440 → "24:00"). */
export function minutesToClock(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`;
}

/** A readable device for a User-Agent string: "Firefox on Windows", "Safari on iPhone". */
export function describeDevice(userAgent: string): string {
  const ua = userAgent || "";
  if (!ua.trim()) return "Unknown device";
  const browser =
    /Edg\//.test(ua) ? "Edge"
    : /OPR\/|Opera/.test(ua) ? "Opera"
    : /Firefox\//.test(ua) ? "Firefox"
    : /(Chrome|Chromium|CriOS)\//.test(ua) ? "Chrome"
    : /Safari\//.test(ua) && /Version\//.test(ua) ? "Safari"
    : /^curl\//.test(ua) ? "curl"
    : null;
  const system =
    /iPhone/.test(ua) ? "iPhone"
    : /iPad/.test(ua) ? "iPad"
    : /Android/.test(ua) ? "Android"
    : /Windows/.test(ua) ? "Windows"
    : /Mac OS X|Macintosh/.test(ua) ? "macOS"
    : /CrOS/.test(ua) ? "ChromeOS"
    : /Linux/.test(ua) ? "Linux"
    : null;
  if (browser && system) return `${browser} on ${system}`;
  return browser ?? system ?? "Other app";
}

/** "nonstop", "1 stop", "2 stops". */
export function stopsText(stops: number): string {
  return stops === 0 ? "nonstop" : `${stops} stop${stops > 1 ? "s" : ""}`;
}

/**
 * How fresh a price is, from its age in seconds of market time: "Price checked just now",
 * "… 4 min ago", "… 3 h ago", "… 2 days ago"; a price no provider has reported since the
 * schedule was loaded (the published fare curve, as every far-off day's is until a provider
 * reports on it) is "Published fare, not yet re-checked by a provider".
 */
export function priceFreshness(ageSeconds: number | null | undefined): string {
  if (ageSeconds === null || ageSeconds === undefined) return "Published fare, not yet re-checked by a provider";
  const minutes = Math.floor(ageSeconds / 60);
  if (minutes < 1) return "Price checked just now";
  if (minutes < 60) return `Price checked ${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `Price checked ${hours} h ago`;
  return `Price checked ${Math.floor(hours / 24)} days ago`;
}
