import type { Schemas } from "@/api/client";
import { formatDate } from "@/lib/format";

/** Where converted prices come from, and of which day: shown wherever prices are converted. */
export function ExchangeRateNote({ rate, className = "" }: { rate?: Schemas["ExchangeRate"] | null; className?: string }) {
  if (!rate) return null;
  return (
    <span className={className} data-testid="exchange-rate">
      prices in {rate.to} at the ECB reference rate of {formatDate(rate.date)} (1 {rate.from} = {rate.rate} {rate.to})
    </span>
  );
}
