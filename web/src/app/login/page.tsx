"use client";

import { Suspense, useState } from "react";
import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import type { z } from "zod";
import { api } from "@/lib/api";
import { applyProblem } from "@/lib/forms";
import { useSession } from "@/lib/session";
import type { Profile, TokenResponse } from "@/lib/types";
import { loginSchema } from "@/lib/validation";
import { TextField } from "@/components/TextField";
import { Alert, buttonClass } from "@/components/Field";

type Form = z.infer<typeof loginSchema>;

function Login() {
  const router = useRouter();
  const params = useSearchParams();
  const expired = useSession((s) => s.expired);
  const [message, setMessage] = useState("");
  const { register, handleSubmit, setError, formState } = useForm<Form>({ resolver: zodResolver(loginSchema) });
  const submit = async (v: Form) => {
    setMessage("");
    try {
      const t = await api<TokenResponse>("/auth/login", { body: v });
      useSession.getState().signedIn(t);
      useSession.getState().setProfile(await api<Profile>("/me", { auth: true }));
      router.push(params.get("next") ?? "/account/");
    } catch (e) {
      setMessage(applyProblem(e, ["email", "password"], setError));
    }
  };
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
