// Prices over time: a departure's history with its low / typical / high label, buy-or-wait
// advice, and the alerts and webhooks of the signed-in traveller.

import { useQuery } from "@tanstack/react-query";
import { publicApi, unwrap, userApi } from "./client";
import type { Schemas } from "./client";

export type PriceHistory = Schemas["PriceHistory"];
export type PriceInsight = Schemas["PriceInsight"];
export type BuyOrWait = Schemas["BuyOrWait"];
export type AlertBody = Schemas["AlertBody"];
export type AlertView = Schemas["AlertView"];
export type WebhookView = Schemas["WebhookView"];
export type Delivery = Schemas["NotificationDto"];
export type PriceToLabel = Schemas["PriceToLabel"];

/** A route on one departure date, in a cabin, prices shown in a currency. */
export type Departure = { origin: string; destination: string; departure_date: string; cabin?: Schemas["CabinName"]; currency?: string };

const AIRPORT = /^[A-Z]{3}$/;

/** Whether pricing can answer about it (airport to airport: prices are kept per airport pair). */
export function priced(d: Partial<Departure>): d is Departure {
  return !!d.origin && !!d.destination && !!d.departure_date && AIRPORT.test(d.origin) && AIRPORT.test(d.destination) && d.origin !== d.destination;
}

/** No history yet is an answer (nothing to show), not an error. */
async function orNothing<T>(call: Promise<T>): Promise<T | null> {
  try {
    return await call;
  } catch (e) {
    if ((e as { code?: string }).code === "no_price_history") return null;
    throw e;
  }
}

export function usePriceHistory(d: Partial<Departure>) {
  return useQuery({
    queryKey: ["price-history", d],
    queryFn: () => orNothing(unwrap(publicApi.GET("/api/v1/prices/history", { params: { query: d as Departure } }))),
    enabled: priced(d),
    staleTime: 60_000,
  });
}

export function useAdvice(d: Partial<Departure>) {
  return useQuery({
    queryKey: ["price-advice", d],
    queryFn: () => orNothing(unwrap(publicApi.GET("/api/v1/prices/advice", { params: { query: d as Departure } }))),
    enabled: priced(d),
    staleTime: 60_000,
  });
}

/** The key of a price's label: its route and date. */
export const labelKey = (p: { origin: string; destination: string; departure_date: string }) => `${p.origin}-${p.destination}-${p.departure_date}`;

/** The labels of many one-way prices at once (a calendar's days, explore's destinations), by
 *  `labelKey`; a price whose route has too little history has none. */
export function usePriceLabels(prices: PriceToLabel[], currency: string, enabled = true) {
  return useQuery({
    queryKey: ["price-labels", currency, prices],
    queryFn: async () => {
      const out: Record<string, PriceInsight> = {};
      for (let i = 0; i < prices.length; i += MAX_LABELS) {
        const body = { currency, prices: prices.slice(i, i + MAX_LABELS) };
        const answer = await unwrap(publicApi.POST("/api/v1/prices/labels", { body }));
        for (const l of answer.labels) if (l.insight) out[labelKey(l)] = l.insight;
      }
      return out;
    },
    enabled: enabled && prices.length > 0,
    staleTime: 60_000,
  });
}

/** Prices one labels request may carry (the API's limit). */
const MAX_LABELS = 200;

export const fetchAlerts = () => unwrap(userApi.GET("/api/v1/alerts"));
export const createAlert = (body: AlertBody) => unwrap(userApi.POST("/api/v1/alerts", { body }));
export const replaceAlert = (id: string, body: AlertBody) => unwrap(userApi.PUT("/api/v1/alerts/{id}", { params: { path: { id } }, body }));
export const pauseAlert = (id: string, paused: boolean) => unwrap(userApi.PATCH("/api/v1/alerts/{id}", { params: { path: { id } }, body: { paused } }));
export const deleteAlert = (id: string) => unwrap(userApi.DELETE("/api/v1/alerts/{id}", { params: { path: { id } } }));

export const fetchWebhooks = () => unwrap(userApi.GET("/api/v1/webhooks"));
export const createWebhook = (url: string) => unwrap(userApi.POST("/api/v1/webhooks", { body: { url } }));
export const deleteWebhook = (id: string) => unwrap(userApi.DELETE("/api/v1/webhooks/{id}", { params: { path: { id } } }));
export const testWebhook = (id: string) => unwrap(userApi.POST("/api/v1/webhooks/{id}/test", { params: { path: { id } } }));
export const fetchDeliveries = (id: string) => unwrap(userApi.GET("/api/v1/webhooks/{id}/deliveries", { params: { path: { id } } }));

/** The definition an alert was made from (its view without what it has seen). */
export function definitionOf(a: AlertView): AlertBody {
  return { origin: a.origin, destination: a.destination, cabin: a.cabin, currency: a.currency, dates: a.dates, flight_minutes: a.flight_minutes, notify: a.notify };
}
