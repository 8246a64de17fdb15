"use client";

import { Suspense, useState } from "react";
import { useRouter, useSearchParams } from "next/navigation";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import type { z } from "zod";
import { resetPassword } from "@/api/auth";
import { applyProblem } from "@/lib/forms";
import { resetSchema } from "@/lib/validation";
import { TextField } from "@/components/TextField";
import { Alert, buttonClass } from "@/components/Field";

type Form = z.infer<typeof resetSchema>;

function Reset() {
  const token = useSearchParams().get("token") ?? "";
  const router = useRouter();
  const [message, setMessage] = useState("");
  const { register, handleSubmit, setError, formState } = useForm<Form>({ resolver: zodResolver(resetSchema) });
  const submit = async (v: Form) => {
    try {
      await resetPassword({ token, new_password: v.new_password });
      router.push("/login/?reset=1");
    } catch (e) {
      setMessage(applyProblem(e, ["new_password"], setError));
    }
  };
  return (
    <div className="mx-auto max-w-md space-y-4">
      <h1 className="text-2xl font-bold">Choose a new password</h1>
      {message ? <Alert>{message}</Alert> : null}
      <form onSubmit={handleSubmit(submit)} noValidate className="space-y-4 rounded-xl bg-white p-6 ring-1 ring-slate-200">
        <TextField<Form> name="new_password" label="New password" type="password" autoComplete="new-password" hint="12 to 128 characters; common passwords are refused." register={register} errors={formState.errors} />
        <TextField<Form> name="confirm" label="Repeat it" type="password" autoComplete="new-password" register={register} errors={formState.errors} />
        <button type="submit" className={`${buttonClass} w-full`} disabled={formState.isSubmitting}>
          Set password
        </button>
      </form>
    </div>
  );
}

export default function ResetPage() {
  return (
    <Suspense>
      <Reset />
    </Suspense>
  );
}
