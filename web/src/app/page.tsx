"use client";

import Link from "next/link";
import { SearchForm } from "@/components/SearchForm";
import { usePreferences } from "@/api/account";
import { emptyForm } from "@/lib/searchUrl";
import type { SearchForm as Form } from "@/lib/validation";

export default function Home() {
  const prefs = usePreferences();
  const form: Form = emptyForm();
  if (prefs.data) {
    form.origin = prefs.data.home_airport ?? "";
    form.cabin = prefs.data.cabin as Form["cabin"];
    form.adults = prefs.data.adults;
    form.children = prefs.data.children;
    form.infants = prefs.data.infants;
  }
  return (
    <div className="space-y-8">
      <section className="space-y-3">
        <h1 className="text-3xl font-bold tracking-tight text-slate-900">Find your flight</h1>
        <p className="text-slate-700">Every schedule, honest prices, results in milliseconds.</p>
        <SearchForm key={prefs.data ? "prefs" : "empty"} initial={form} />
      </section>
      <section className="grid gap-4 md:grid-cols-2">
        <Link href="/explore/" className="rounded-xl bg-white p-5 ring-1 ring-slate-200 hover:ring-sky-600">
          <h2 className="text-lg font-semibold">Explore by flight time</h2>
          <p className="text-slate-700">Anywhere within 2–4 hours, leaving this weekend, under your budget — on a map.</p>
        </Link>
        <Link href="/calendar/" className="rounded-xl bg-white p-5 ring-1 ring-slate-200 hover:ring-sky-600">
          <h2 className="text-lg font-semibold">Price calendar</h2>
          <p className="text-slate-700">The cheapest day to fly, month at a glance, and the best trip length for a return.</p>
        </Link>
      </section>
    </div>
  );
}
