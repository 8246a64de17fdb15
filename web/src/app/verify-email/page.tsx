"use client";

import { Suspense, useEffect, useRef, useState } from "react";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { ApiProblem } from "@/api/client";
import { verifyEmail } from "@/api/auth";
import { Alert } from "@/components/Field";

function Verify() {
  const token = useSearchParams().get("token") ?? "";
  const [state, setState] = useState<"working" | "done" | "failed">("working");
  const [message, setMessage] = useState("");
  const sent = useRef(false);
  useEffect(() => {
    // A verification link works once: never send it twice (React may run effects twice).
    if (sent.current) return;
    sent.current = true;
    verifyEmail(token)
      .then(() => setState("done"))
      .catch((e) => {
        setState("failed");
        setMessage(e instanceof ApiProblem ? (e.fieldMessage("token") ?? e.message) : "Something went wrong.");
      });
  }, [token]);
  return (
    <div className="mx-auto max-w-md space-y-4">
      <h1 className="text-2xl font-bold">Confirm your email</h1>
      {state === "working" ? <p role="status">Confirming…</p> : null}
      {state === "done" ? (
        <Alert tone="success">
          Your email address is confirmed.{" "}
          <Link href="/login/" className="underline">
            Sign in
          </Link>
          .
        </Alert>
      ) : null}
      {state === "failed" ? (
        <Alert>
          {message} You can ask for a new link from your{" "}
          <Link href="/account/" className="underline">
            account page
          </Link>
          .
        </Alert>
      ) : null}
    </div>
  );
}

export default function VerifyPage() {
  return (
    <Suspense>
      <Verify />
    </Suspense>
  );
}
