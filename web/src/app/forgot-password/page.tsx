"use client";

import { useState } from "react";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { z } from "zod";
import { forgotPassword } from "@/api/auth";
import { applyProblem } from "@/lib/forms";
import { emailSchema } from "@/lib/validation";
import { TextField } from "@/components/TextField";
import { Alert, buttonClass } from "@/components/Field";

const schema = z.object({ email: emailSchema });
type Form = z.infer<typeof schema>;

export default function ForgotPage() {
  const [sent, setSent] = useState(false);
  const [message, setMessage] = useState("");
  const { register, handleSubmit, setError, formState } = useForm<Form>({ resolver: zodResolver(schema) });
  const submit = async (v: Form) => {
    try {
      await forgotPassword(v.email);
      setSent(true);
    } catch (e) {
      setMessage(applyProblem(e, ["email"], setError));
    }
  };
  return (
    <div className="mx-auto max-w-md space-y-4">
      <h1 className="text-2xl font-bold">Forgot your password?</h1>
      {sent ? (
        <Alert tone="success">If an account uses that address, a link to choose a new password is on its way. It works once, for an hour.</Alert>
      ) : (
        <form onSubmit={handleSubmit(submit)} noValidate className="space-y-4 rounded-xl bg-white p-6 ring-1 ring-slate-200">
          {message ? <Alert>{message}</Alert> : null}
          <TextField<Form> name="email" label="Email" type="email" autoComplete="email" register={register} errors={formState.errors} />
          <button type="submit" className={`${buttonClass} w-full`} disabled={formState.isSubmitting}>
            Send me a link
          </button>
        </form>
      )}
    </div>
  );
}
