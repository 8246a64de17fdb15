"use client";

import { Suspense, useState } from "react";
import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import type { z } from "zod";
import { ApiProblem } from "@/api/client";
import { login, loginSecondFactor } from "@/api/auth";
import { fetchMe } from "@/api/account";
import { applyProblem } from "@/lib/forms";
import { useSession } from "@/lib/session";
import type { TokenResponse } from "@/api/types";
import { loginSchema } from "@/lib/validation";
import { TextField } from "@/components/TextField";
import { Alert, FieldError, buttonClass, inputClass } from "@/components/Field";

type Form = z.infer<typeof loginSchema>;

/** The second step: a code from the authenticator app, or a recovery code. */
function SecondFactor({ challenge, done }: { challenge: string; done: (t: TokenResponse) => Promise<void> }) {
  const [code, setCode] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setError("");
    setBusy(true);
    try {
      await done(await loginSecondFactor({ challenge, code, session_cookie: true }));
    } catch (err) {
      setError(err instanceof ApiProblem ? err.message : "Not signed in.");
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} noValidate className="space-y-4 rounded-xl bg-white p-6 ring-1 ring-slate-200">
      <div>
        <label htmlFor="f-code" className="block text-sm font-medium text-slate-700">
          Code from your authenticator app
        </label>
        <input
          id="f-code"
          className={inputClass}
          inputMode="numeric"
          autoComplete="one-time-code"
          autoFocus
          value={code}
          onChange={(e) => setCode(e.target.value)}
          aria-describedby={error ? "f-code-error" : "f-code-hint"}
          aria-invalid={error ? true : undefined}
        />
        <p id="f-code-hint" className="mt-1 text-xs text-slate-600">
          Six digits; or one of your recovery codes if you lost the device.
        </p>
        <FieldError id="f-code-error" message={error} />
      </div>
      <button type="submit" className={`${buttonClass} w-full`} disabled={busy}>
        Verify
      </button>
    </form>
  );
}

function Login() {
  const router = useRouter();
  const params = useSearchParams();
  const expired = useSession((s) => s.expired);
  const [message, setMessage] = useState("");
  const [challenge, setChallenge] = useState<string | null>(null);
  const { register, handleSubmit, setError, formState } = useForm<Form>({ resolver: zodResolver(loginSchema) });
  const finish = async (t: TokenResponse) => {
    useSession.getState().signedIn(t);
    useSession.getState().setProfile(await fetchMe());
    router.push(params.get("next") ?? "/account/");
  };
  const submit = async (v: Form) => {
    setMessage("");
    try {
      const answer = await login({ ...v, session_cookie: true });
      if ("two_factor_required" in answer) {
        setChallenge(answer.challenge);
        return;
      }
      await finish(answer);
    } catch (e) {
      setMessage(applyProblem(e, ["email", "password"], setError));
    }
  };
  if (challenge) {
    return (
      <div className="mx-auto max-w-md space-y-4">
        <h1 className="text-2xl font-bold">Two-step sign-in</h1>
        <SecondFactor challenge={challenge} done={finish} />
      </div>
    );
  }
  return (
    <div className="mx-auto max-w-md space-y-4">
      <h1 className="text-2xl font-bold">Sign in</h1>
      {expired ? <Alert tone="info">Your session has ended. Please sign in again.</Alert> : null}
      {params.get("reset") ? <Alert tone="success">Your password has been changed. Sign in with the new one.</Alert> : null}
      {message ? <Alert>{message}</Alert> : null}
      <form onSubmit={handleSubmit(submit)} noValidate className="space-y-4 rounded-xl bg-white p-6 ring-1 ring-slate-200">
        <TextField<Form> name="email" label="Email" type="email" autoComplete="email" register={register} errors={formState.errors} />
        <TextField<Form> name="password" label="Password" type="password" autoComplete="current-password" register={register} errors={formState.errors} />
        <button type="submit" className={`${buttonClass} w-full`} disabled={formState.isSubmitting}>
          Sign in
        </button>
        <p className="flex justify-between text-sm">
          <Link href="/forgot-password/" className="text-sky-800 underline">
            Forgot your password?
          </Link>
          <Link href="/register/" className="text-sky-800 underline">
            Create an account
          </Link>
        </p>
      </form>
    </div>
  );
}

export default function LoginPage() {
  return (
    <Suspense>
      <Login />
    </Suspense>
  );
}
