"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { logout as endSession } from "@/api/auth";
import { useSession } from "@/lib/session";
import { useCurrencies, useCurrency, useCurrencyChoice } from "@/api/currency";

export function Header() {
  const profile = useSession((s) => s.profile);
  const clear = useSession((s) => s.clear);
  const router = useRouter();
  const logout = async () => {
    try {
      await endSession();
    } catch {
      /* signing out locally is what matters */
    }
    clear();
    router.push("/");
  };
  const link = "rounded px-2 py-1 text-sm font-medium text-slate-700 hover:bg-slate-100 focus-visible:outline focus-visible:outline-2 focus-visible:outline-sky-600";
  return (
    <header className="border-b border-slate-200 bg-white">
      {/* Two groups that wrap as wholes: on a phone the places to go on one row and the
          currency and account on the next, never a link broken over two lines. */}
      <nav aria-label="Main" className="mx-auto flex max-w-6xl flex-wrap items-center justify-between gap-x-4 gap-y-1 px-4 py-2">
        <div className="flex items-center gap-1 whitespace-nowrap">
          <Link href="/" className="mr-2 text-lg font-bold text-sky-800">
            Spontra
          </Link>
          <Link href="/" className={link}>
            Flights
          </Link>
          <Link href="/explore/" className={link}>
            Explore
          </Link>
          <Link href="/calendar/" className={link}>
            Price calendar
          </Link>
        </div>
        <div className="flex items-center gap-1 whitespace-nowrap">
          <CurrencyPicker />
          {profile ? (
            <>
              <Link href="/alerts/" className={link}>
                Alerts
              </Link>
              <Link href="/account/" className={`${link} max-w-[10rem] truncate`} title={profile.display_name || "Account"}>
                {profile.display_name || "Account"}
              </Link>
              <button type="button" onClick={logout} className={link}>
                Sign out
              </button>
            </>
          ) : (
            <>
              <Link href="/login/" className={link}>
                Sign in
              </Link>
              <Link href="/register/" className={`${link} bg-sky-700 text-white hover:bg-sky-800`}>
                Create account
              </Link>
            </>
          )}
        </div>
      </nav>
    </header>
  );
}

/** Prices in the traveller's currency (ECB reference rates). */
function CurrencyPicker() {
  const currencies = useCurrencies();
  const current = useCurrency();
  const choose = useCurrencyChoice((s) => s.choose);
  return (
    <label className="flex items-center gap-1 text-sm text-slate-700">
      <span className="sr-only">Currency</span>
      <select
        aria-label="Currency"
        className="rounded border border-slate-300 bg-white px-1 py-1 text-sm"
        value={current}
        onChange={(e) => choose(e.target.value)}
      >
        {(currencies.data ?? [{ code: current, name: current }]).map((c) => (
          <option key={c.code} value={c.code}>
            {c.code}
          </option>
        ))}
      </select>
    </label>
  );
}
