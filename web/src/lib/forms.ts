import type { FieldValues, Path, UseFormSetError } from "react-hook-form";
import { ApiProblem } from "@/api/client";

/**
 * Put an API refusal where it belongs: field errors at their fields (when the form has that
 * field), the rest returned as a message for the form as a whole.
 */
export function applyProblem<T extends FieldValues>(
  e: unknown,
  fields: readonly string[],
  setError: UseFormSetError<T>,
  /** API field → form field, where they are named differently. */
  aliases: Record<string, string> = {},
): string {
  if (!(e instanceof ApiProblem)) return "Something went wrong; please try again.";
  let placed = false;
  for (const fe of e.errors) {
    const field = aliases[fe.field] ?? fe.field;
    if (fields.includes(field)) {
      setError(field as Path<T>, { type: "server", message: fe.message });
      placed = true;
    }
  }
  if (e.code === "too_many_attempts" && e.retryAfter) return `Too many attempts. Try again in ${e.retryAfter} seconds.`;
  return placed && e.errors.length === 1 ? "" : e.message;
}
