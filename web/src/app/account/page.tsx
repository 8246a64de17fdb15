"use client";

import { useEffect, useState } from "react";
import { useRouter } from "next/navigation";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import type { z } from "zod";
import { ApiProblem } from "@/api/client";
import { logoutEverywhere, resendVerification } from "@/api/auth";
import {
  deleteMe,
  disableTwoFactor,
  enableTwoFactor,
  endSession,
  exportMe,
  fetchConsents,
  fetchPreferences,
  fetchSessions,
  fetchTwoFactor,
  renameMe,
  saveConsents,
  savePreferences,
  setUpTwoFactor,
} from "@/api/account";
import { applyProblem } from "@/lib/forms";
import { useSession } from "@/lib/session";
import { CABINS, CABIN_LABEL, placeCode, preferencesSchema } from "@/lib/validation";
import type { Preferences, Profile, TwoFactorSetup } from "@/api/types";
import QRCode from "qrcode";
import { describeDevice } from "@/lib/format";
import { Alert, Card, FieldError, buttonClass, inputClass, secondaryButtonClass } from "@/components/Field";

type PrefsForm = z.input<typeof preferencesSchema>;

function ProfileCard({ profile }: { profile: Profile }) {
  const [name, setName] = useState(profile.display_name);
  const [note, setNote] = useState<{ tone: "success" | "error"; text: string } | null>(null);
  const setProfile = useSession((s) => s.setProfile);
  const save = async (e: React.FormEvent) => {
    e.preventDefault();
    try {
      setProfile(await renameMe(name));
      setNote({ tone: "success", text: "Saved." });
    } catch (err) {
      setNote({ tone: "error", text: err instanceof ApiProblem ? err.message : "Not saved." });
    }
  };
  const resend = async () => {
    try {
      await resendVerification();
      setNote({ tone: "success", text: "A new confirmation link is on its way." });
    } catch (err) {
      setNote({ tone: "error", text: err instanceof ApiProblem ? err.message : "Not sent." });
    }
  };
  return (
    <Card title="Profile">
      {note ? <Alert tone={note.tone}>{note.text}</Alert> : null}
      <p className="text-sm">
        {profile.email} ·{" "}
        {profile.email_verified ? (
          <span className="font-semibold text-emerald-800">confirmed</span>
        ) : (
          <>
            <span className="font-semibold text-amber-800">not confirmed yet</span>{" "}
            <button type="button" onClick={resend} className="text-sky-800 underline">
              Send a new link
            </button>
          </>
        )}
      </p>
      <form onSubmit={save} className="flex flex-wrap items-end gap-3">
        <div className="flex-1">
          <label htmlFor="display-name" className="block text-sm font-medium text-slate-700">
            Name
          </label>
          <input id="display-name" className={inputClass} value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <button type="submit" className={buttonClass}>
          Save name
        </button>
      </form>
    </Card>
  );
}

function PreferencesCard() {
  const qc = useQueryClient();
  const profile = useSession((s) => s.profile);
  const prefs = useQuery({ queryKey: ["preferences", profile?.id], queryFn: fetchPreferences });
  const [message, setMessage] = useState<{ tone: "success" | "error"; text: string } | null>(null);
  const { register, handleSubmit, reset, setError, formState } = useForm<PrefsForm>({ resolver: zodResolver(preferencesSchema) });
  useEffect(() => {
    const p = prefs.data;
    if (!p) return;
    reset({
      home_airport: p.home_airport ?? "",
      currency: p.currency,
      cabin: p.cabin as PrefsForm["cabin"],
      adults: p.adults,
      children: p.children,
      infants: p.infants,
      min_hours: p.trip_hours?.min ?? 2,
      max_hours: p.trip_hours?.max ?? 4,
      budget: p.budget === null ? "" : String(p.budget),
      price_alerts: p.notifications.price_alerts,
      deals: p.notifications.deals,
      newsletter: p.notifications.newsletter,
    });
  }, [prefs.data, reset]);
  const submit = async (raw: PrefsForm) => {
    const v = preferencesSchema.parse(raw);
    const body: Preferences = {
      home_airport: v.home_airport ? placeCode(v.home_airport) : null,
      currency: v.currency,
      cabin: v.cabin,
      adults: v.adults,
      children: v.children,
      infants: v.infants,
      trip_hours: { min: v.min_hours, max: v.max_hours },
      budget: v.budget === "" ? null : Number(v.budget),
      notifications: { price_alerts: v.price_alerts, deals: v.deals, newsletter: v.newsletter },
    };
    try {
      const saved = await savePreferences(body);
      qc.setQueryData(["preferences", profile?.id], saved);
      setMessage({ tone: "success", text: "Preferences saved. New searches start from them." });
    } catch (e) {
      const fields = ["home_airport", "currency", "cabin", "adults", "children", "infants", "max_hours", "budget"];
      const text = applyProblem(e, fields, setError, { trip_hours: "max_hours" });
      setMessage(text ? { tone: "error", text } : null);
    }
  };
  const err = formState.errors;
  const small = (name: keyof PrefsForm, label: string, type = "number") => (
    <div>
      <label htmlFor={`p-${name}`} className="block text-sm font-medium text-slate-700">
        {label}
      </label>
      <input id={`p-${name}`} type={type} className={inputClass} aria-invalid={err[name] ? true : undefined} aria-describedby={err[name] ? `p-${name}-error` : undefined} {...register(name)} />
      <FieldError id={`p-${name}-error`} message={err[name]?.message as string | undefined} />
    </div>
  );
  return (
    <Card title="Travel preferences">
      {message ? <Alert tone={message.tone}>{message.text}</Alert> : null}
      <form onSubmit={handleSubmit(submit)} noValidate className="grid gap-3 md:grid-cols-3">
        {small("home_airport", "Home airport or city (e.g. LHR, LON)", "text")}
        {small("currency", "Currency (e.g. EUR, GBP, USD)", "text")}
        <div>
          <label htmlFor="p-cabin" className="block text-sm font-medium text-slate-700">
            Cabin
          </label>
          <select id="p-cabin" className={inputClass} {...register("cabin")}>
            {CABINS.map((c) => (
              <option key={c} value={c}>
                {CABIN_LABEL[c]}
              </option>
            ))}
          </select>
        </div>
        {small("adults", "Adults")}
        {small("children", "Children")}
        {small("infants", "Lap infants")}
        {small("min_hours", "Shortest flight time (hours)")}
        {small("max_hours", "Longest flight time (hours)")}
        {small("budget", "Budget per trip", "text")}
        <fieldset className="md:col-span-3">
          <legend className="text-sm font-medium text-slate-700">Email me about</legend>
          {(
            [
              ["price_alerts", "Price alerts I set"],
              ["deals", "Deals from my home airport"],
              ["newsletter", "Spontra news"],
            ] as const
          ).map(([k, label]) => (
            <label key={k} className="mr-4 inline-flex items-center gap-2 text-sm">
              <input type="checkbox" className="h-4 w-4 accent-sky-700" {...register(k)} />
              {label}
            </label>
          ))}
        </fieldset>
        <div className="md:col-span-3">
          <button type="submit" className={buttonClass} disabled={formState.isSubmitting}>
            Save preferences
          </button>
        </div>
      </form>
    </Card>
  );
}

/** Two-factor authentication: turn on (password, QR code, confirming code, recovery codes) or off. */
function TwoFactorCard({ profile }: { profile: Profile }) {
  const qc = useQueryClient();
  const status = useQuery({ queryKey: ["2fa", profile.id], queryFn: fetchTwoFactor });
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [setup, setSetup] = useState<(TwoFactorSetup & { qr: string }) | null>(null);
  const [recovery, setRecovery] = useState<string[] | null>(null);
  const [error, setError] = useState("");
  const problem = (err: unknown) => (err instanceof ApiProblem ? (err.errors[0]?.message ?? err.message) : "That did not work; try again.");
  const start = async (e: React.FormEvent) => {
    e.preventDefault();
    setError("");
    try {
      const s = await setUpTwoFactor(password);
      // Rendered here from the otpauth:// URI: the secret never leaves the page.
      setSetup({ ...s, qr: await QRCode.toDataURL(s.otpauth_uri, { margin: 1, width: 200 }) });
      setPassword("");
    } catch (err) {
      setError(problem(err));
    }
  };
  const confirm = async (e: React.FormEvent) => {
    e.preventDefault();
    setError("");
    try {
      const r = await enableTwoFactor(code);
      setRecovery(r.recovery_codes);
      setSetup(null);
      setCode("");
      qc.invalidateQueries({ queryKey: ["2fa", profile.id] });
    } catch (err) {
      setError(problem(err));
    }
  };
  const turnOff = async (e: React.FormEvent) => {
    e.preventDefault();
    setError("");
    try {
      await disableTwoFactor({ password, code });
      setPassword("");
      setCode("");
      setRecovery(null);
      qc.invalidateQueries({ queryKey: ["2fa", profile.id] });
    } catch (err) {
      setError(problem(err));
    }
  };
  const field = (id: string, label: string, value: string, set: (v: string) => void, type = "text") => (
    <div className="flex-1">
      <label htmlFor={id} className="block text-sm font-medium text-slate-700">
        {label}
      </label>
      <input
        id={id}
        type={type}
        className={inputClass}
        value={value}
        onChange={(e) => set(e.target.value)}
        autoComplete={type === "password" ? "current-password" : "one-time-code"}
        aria-describedby={error ? "twofa-error" : undefined}
      />
    </div>
  );
  const on = status.data?.enabled ?? false;
  return (
    <Card title="Two-factor authentication">
      <FieldError id="twofa-error" message={error} />
      {recovery ? (
        <Alert tone="success">
          <p className="font-semibold">Two-factor authentication is on. Keep these recovery codes somewhere safe; each works once, and they are shown only now:</p>
          <ul className="mt-2 grid grid-cols-2 gap-1 font-mono" aria-label="Recovery codes">
            {recovery.map((c) => (
              <li key={c}>{c}</li>
            ))}
          </ul>
        </Alert>
      ) : null}
      {on ? (
        <>
          <p className="text-sm">
            <span className="font-semibold text-emerald-800">On.</span> Signing in asks for a code from your authenticator app.{" "}
            {status.data?.recovery_codes_left ?? 0} recovery codes left.
          </p>
          {profile.role === "admin" ? (
            <p className="text-sm text-slate-600">Administrators keep two-factor authentication on.</p>
          ) : (
            <form onSubmit={turnOff} className="flex flex-wrap items-end gap-3">
              {field("twofa-off-password", "Password", password, setPassword, "password")}
              {field("twofa-off-code", "Code or recovery code", code, setCode)}
              <button type="submit" className={secondaryButtonClass}>
                Turn off
              </button>
            </form>
          )}
        </>
      ) : setup ? (
        <form onSubmit={confirm} className="space-y-3">
          <p className="text-sm">Scan this code with an authenticator app (or type the key), then enter the six digits it shows.</p>
          {/* eslint-disable-next-line @next/next/no-img-element */}
          <img src={setup.qr} width={200} height={200} alt="QR code to add Spontra to an authenticator app" />
          <p className="text-sm">
            Key: <code className="break-all font-mono" data-testid="totp-secret">{setup.secret}</code>
          </p>
          <div className="flex flex-wrap items-end gap-3">
            {field("twofa-code", "Six-digit code", code, setCode)}
            <button type="submit" className={buttonClass}>
              Turn on
            </button>
          </div>
        </form>
      ) : (
        <form onSubmit={start} className="flex flex-wrap items-end gap-3">
          {field("twofa-password", "Set up with an authenticator app — confirm your password", password, setPassword, "password")}
          <button type="submit" className={buttonClass}>
            Set up
          </button>
        </form>
      )}
    </Card>
  );
}

function SessionsCard() {
  const qc = useQueryClient();
  const sessions = useQuery({ queryKey: ["sessions"], queryFn: fetchSessions });
  const revoke = useMutation({
    mutationFn: endSession,
    onSuccess: () => qc.invalidateQueries({ queryKey: ["sessions"] }),
  });
  return (
    <Card title="Where you are signed in">
      <ul className="divide-y divide-slate-100 text-sm">
        {(sessions.data ?? []).map((s) => (
          <li key={s.id} className="flex items-center justify-between gap-3 py-2">
            <span>
              <span className="font-medium" title={s.user_agent || undefined}>
                {describeDevice(s.user_agent)}
              </span>
              <span className="block text-xs text-slate-600">
                {s.ip || "unknown address"} · since {new Date(s.created_at).toLocaleString("en-GB")} · last used {new Date(s.last_used_at).toLocaleString("en-GB")}
              </span>
            </span>
            {s.current ? (
              <span className="text-xs font-semibold text-emerald-800">this device</span>
            ) : (
              <button type="button" className={secondaryButtonClass} onClick={() => revoke.mutate(s.id)}>
                Sign out
              </button>
            )}
          </li>
        ))}
      </ul>
    </Card>
  );
}

function ConsentToggles() {
  const qc = useQueryClient();
  const consents = useQuery({ queryKey: ["consents"], queryFn: fetchConsents });
  const record = useMutation({
    mutationFn: saveConsents,
    onSuccess: (data) => qc.setQueryData(["consents"], data),
  });
  const row = (kind: "marketing" | "analytics", label: string) => {
    const c = consents.data?.[kind];
    return (
      <label className="flex items-center gap-2 text-sm">
        <input type="checkbox" className="h-4 w-4 accent-sky-700" checked={c?.granted ?? false} disabled={!consents.data || record.isPending} onChange={(e) => record.mutate({ [kind]: e.target.checked })} />
        <span className="flex-1">{label}</span>
        <span className="text-xs text-slate-600">{c ? `${c.granted ? "given" : "refused"} ${new Date(c.recorded_at).toLocaleString("en-GB")}` : "not asked yet"}</span>
      </label>
    );
  };
  return (
    <fieldset className="space-y-2">
      <legend className="mb-1 text-sm font-medium text-slate-700">Consents (each decision is recorded with its time)</legend>
      {row("marketing", "Marketing emails")}
      {row("analytics", "Anonymous usage analytics")}
    </fieldset>
  );
}

function PrivacyCard() {
  const router = useRouter();
  const clear = useSession((s) => s.clear);
  const profile = useSession((s) => s.profile);
  const twoFactor = useQuery({ queryKey: ["2fa", profile?.id], queryFn: fetchTwoFactor, enabled: !!profile });
  const needsCode = twoFactor.data?.enabled ?? false;
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [error, setError] = useState("");
  const [codeError, setCodeError] = useState("");
  const download = async () => {
    const data = await exportMe();
    const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = "spontra-export.json";
    a.click();
    URL.revokeObjectURL(url);
  };
  const remove = async (e: React.FormEvent) => {
    e.preventDefault();
    if (!window.confirm("Delete your account and everything we keep about you? This cannot be undone.")) return;
    setError("");
    setCodeError("");
    try {
      await deleteMe(password, needsCode ? code : undefined);
      clear();
      router.push("/?deleted=1");
    } catch (err) {
      if (err instanceof ApiProblem && err.fieldMessage("code")) setCodeError(err.fieldMessage("code") ?? "");
      else setError(err instanceof ApiProblem ? (err.fieldMessage("password") ?? err.message) : "Not deleted.");
    }
  };
  const logoutAll = async () => {
    await logoutEverywhere().catch(() => undefined);
    clear();
    router.push("/login/");
  };
  return (
    <Card title="Privacy and security">
      <ConsentToggles />
      <div className="flex flex-wrap gap-3 border-t border-slate-200 pt-3">
        <button type="button" className={secondaryButtonClass} onClick={download}>
          Download my data (JSON)
        </button>
        <button type="button" className={secondaryButtonClass} onClick={logoutAll}>
          Sign out everywhere
        </button>
      </div>
      <form onSubmit={remove} className="flex flex-wrap items-end gap-3 border-t border-slate-200 pt-3">
        <div className="flex-1">
          <label htmlFor="delete-password" className="block text-sm font-medium text-slate-700">
            Delete my account — confirm with your password
          </label>
          <input id="delete-password" type="password" autoComplete="current-password" className={inputClass} value={password} onChange={(e) => setPassword(e.target.value)} aria-describedby={error ? "delete-password-error" : undefined} />
          <FieldError id="delete-password-error" message={error} />
        </div>
        {needsCode || codeError ? (
          <div>
            <label htmlFor="delete-code" className="block text-sm font-medium text-slate-700">
              Code from your app (or a recovery code)
            </label>
            <input id="delete-code" inputMode="numeric" autoComplete="one-time-code" className={inputClass} value={code} onChange={(e) => setCode(e.target.value)} aria-describedby={codeError ? "delete-code-error" : undefined} />
            <FieldError id="delete-code-error" message={codeError} />
          </div>
        ) : null}
        <button type="submit" className="rounded-md bg-red-700 px-4 py-2 font-semibold text-white hover:bg-red-800">
          Delete account
        </button>
      </form>
    </Card>
  );
}

export default function AccountPage() {
  const router = useRouter();
  const { profile, ready } = useSession();
  useEffect(() => {
    if (ready && !profile) router.replace("/login/?next=/account/");
  }, [ready, profile, router]);
  if (!profile) return <div className="skeleton h-40" role="status" aria-label="Loading your account" />;
  return (
    <div className="space-y-4">
      <h1 className="text-2xl font-bold">Your account</h1>
      <ProfileCard profile={profile} />
      <PreferencesCard />
      <TwoFactorCard profile={profile} />
      <SessionsCard />
      <PrivacyCard />
    </div>
  );
}
