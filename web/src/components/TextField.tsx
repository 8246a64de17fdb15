"use client";

import type { FieldErrors, UseFormRegister, FieldValues, Path } from "react-hook-form";
import { FieldError, inputClass } from "./Field";

export function TextField<T extends FieldValues>({
  name,
  label,
  type = "text",
  register,
  errors,
  autoComplete,
  hint,
}: {
  name: Path<T>;
  label: string;
  type?: string;
  register: UseFormRegister<T>;
  errors: FieldErrors<T>;
  autoComplete?: string;
  hint?: string;
}) {
  const message = errors[name]?.message as string | undefined;
  const id = `f-${name}`;
  const describedBy = [message ? `${id}-error` : "", hint ? `${id}-hint` : ""].filter(Boolean).join(" ") || undefined;
  return (
    <div>
      <label htmlFor={id} className="block text-sm font-medium text-slate-700">
        {label}
      </label>
      <input id={id} type={type} autoComplete={autoComplete} className={inputClass} aria-invalid={message ? true : undefined} aria-describedby={describedBy} {...register(name)} />
      {hint ? (
        <p id={`${id}-hint`} className="mt-1 text-xs text-slate-600">
          {hint}
        </p>
      ) : null}
      <FieldError id={`${id}-error`} message={message} />
    </div>
  );
}
