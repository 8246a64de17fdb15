// The currency prices are shown in: the traveller's choice in the header (kept in this
// browser), else the signed-in traveller's preference, else the inventory's (EUR).

"use client";

import { useEffect } from "react";
import { useQuery } from "@tanstack/react-query";
import { create } from "zustand";
import { publicApi, unwrap } from "./client";
import { usePreferences } from "./account";
import { storage } from "@/lib/storage";

const KEY = "spontra.currency";


// Read from storage after the first render (the static page was rendered without it, and
// the first client render must match it).
export const useCurrencyChoice = create<{ chosen: string | null; load: () => void; choose: (code: string) => void }>((set) => ({
  chosen: null,
  load: () => set({ chosen: storage()?.getItem(KEY) ?? null }),
  choose: (code) => {
    storage()?.setItem(KEY, code);
    set({ chosen: code });
  },
}));

/** Every currency prices can be shown in, with its ECB rate. */
export function useCurrencies() {
  return useQuery({
    queryKey: ["currencies"],
    queryFn: () => unwrap(publicApi.GET("/api/v1/currencies")),
    staleTime: 60 * 60_000,
  });
}

/** The currency to ask prices in. */
export function useCurrency(): string {
  const chosen = useCurrencyChoice((s) => s.chosen);
  useEffect(() => {
    if (useCurrencyChoice.getState().chosen === null) useCurrencyChoice.getState().load();
  }, []);
  const prefs = usePreferences();
  return chosen ?? prefs.data?.currency ?? "EUR";
}
