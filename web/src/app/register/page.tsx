"use client";

import { useState } from "react";
import Link from "next/link";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import type { z } from "zod";
import { register as signUp } from "@/api/auth";
import { applyProblem } from "@/lib/forms";
import { registerSchema } from "@/lib/validation";
import { TextField } from "@/components/TextField";
import { Alert, buttonClass } from "@/components/Field";

type Form = z.infer<typeof registerSchema>;

export default function RegisterPage() {
  const [done, setDone] = useState<string | null>(null);
  const [message, setMessage] = useState("");
  const { register, handleSubmit, setError, formState } = useForm<Form>({ resolver: zodResolver(registerSchema) });
  const submit = async (v: Form) => {
    setMessage("");
    try {
      await signUp(v);
      setDone(v.email);
    } catch (e) {
      setMessage(applyProblem(e, ["email", "password", "display_name"], setError));
    }
  };
  if (done)
    return (
      <div className="mx-auto max-w-md space-y-4">
        <h1 className="text-2xl font-bold">Check your inbox</h1>
        <Alert tone="success">
          We sent a mail to <strong>{done}</strong>. Open its link to confirm your address, then{" "}
          <Link href="/login/" className="underline">
            sign in
          </Link>
          . If the address has an account already, the mail says so instead: sign in, or{" "}
          <Link href="/forgot-password/" className="underline">
            reset your password
          </Link>
          .
        </Alert>
      </div>
    );
  return (
    <div className="mx-auto max-w-md space-y-4">
      <h1 className="text-2xl font-bold">Create your account</h1>
      {message ? <Alert>{message}</Alert> : null}
      <form onSubmit={handleSubmit(submit)} noValidate className="space-y-4 rounded-xl bg-white p-6 ring-1 ring-slate-200">
        <TextField<Form> name="display_name" label="Your name" autoComplete="name" register={register} errors={formState.errors} />
        <TextField<Form> name="email" label="Email" type="email" autoComplete="email" register={register} errors={formState.errors} />
        <TextField<Form>
          name="password"
          label="Password"
          type="password"
          autoComplete="new-password"
          hint="12 to 128 characters; common passwords are refused."
          register={register}
          errors={formState.errors}
        />
        <button type="submit" className={`${buttonClass} w-full`} disabled={formState.isSubmitting}>
          Create account
        </button>
        <p className="text-sm">
          Already have one?{" "}
          <Link href="/login/" className="text-sky-800 underline">
            Sign in
          </Link>
        </p>
      </form>
    </div>
  );
}
