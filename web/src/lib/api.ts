// The API client: JSON in and out, problem+json errors as `ApiProblem`, bearer tokens from
// the session store with one transparent refresh when an access token has expired.

import type { FieldError, Problem, TokenResponse } from "./types";
import { useSession } from "./session";

/** Base URL of the API; empty means the same origin that served the app. */
export const API_BASE = (process.env.NEXT_PUBLIC_API_BASE ?? "").replace(/\/$/, "");

export class ApiProblem extends Error {
  readonly status: number;
  readonly code: string;
  readonly errors: FieldError[];
  readonly retryAfter: number | null;

  constructor(problem: Problem, retryAfter: number | null = null) {
    super(problem.detail || problem.title);
    this.status = problem.status;
    this.code = problem.code;
    this.errors = problem.errors ?? [];
    this.retryAfter = retryAfter;
  }

  /** The message for one field, if the API named it. */
  fieldMessage(field: string): string | undefined {
    return this.errors.find((e) => e.field === field)?.message;
  }
}

function networkProblem(message: string): ApiProblem {
  return new ApiProblem({ type: "about:blank", title: "Network error", status: 0, detail: message, code: "network" });
}

interface Options {
  method?: string;
  body?: unknown;
  /** Send the access token (and refresh it once if it has expired). */
  auth?: boolean;
  /** Repeat the CSRF cookie in `X-CSRF-Token` (the cookie-authenticated refresh). */
  csrf?: boolean;
  signal?: AbortSignal;
}

/** The CSRF cookie's value (`__Host-` prefixed when the site is served over https). */
export function csrfToken(cookies: string = typeof document === "undefined" ? "" : document.cookie): string {
  const jar = new Map(
    cookies
      .split(";")
      .map((c) => c.trim().split("="))
      .filter((kv) => kv.length >= 2)
      .map(([k, ...v]) => [k, v.join("=")] as const),
  );
  return jar.get("__Host-spontra_csrf") ?? jar.get("spontra_csrf") ?? "";
}

async function send(path: string, opts: Options, token: string | null): Promise<Response> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  if (token) headers.authorization = `Bearer ${token}`;
  if (opts.csrf) headers["x-csrf-token"] = csrfToken();
  try {
    return await fetch(`${API_BASE}/api/v1${path}`, {
      method: opts.method ?? (opts.body === undefined ? "GET" : "POST"),
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: opts.signal,
    });
  } catch (e) {
    if ((e as Error).name === "AbortError") throw e;
    throw networkProblem("Spontra cannot be reached; check your connection and try again.");
  }
}

async function parse<T>(res: Response): Promise<T> {
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  const body = text ? JSON.parse(text) : undefined;
  if (!res.ok) {
    const retry = res.headers.get("retry-after");
    throw new ApiProblem(
      body ?? { type: "about:blank", title: res.statusText, status: res.status, detail: res.statusText, code: "http" },
      retry ? Number(retry) : null,
    );
  }
  return body as T;
}

export async function api<T>(path: string, opts: Options = {}): Promise<T> {
  if (!opts.auth) return parse<T>(await send(path, opts, null));
  let token = useSession.getState().accessToken;
  if (!token) token = await refreshSession();
  if (!token) throw new ApiProblem({ type: "", title: "Sign in", status: 401, detail: "Please sign in.", code: "unauthorized" });
  let res = await send(path, opts, token);
  if (res.status === 401) {
    // The access token expired (15 minutes) or the session ended: try one refresh.
    const fresh = await refreshSession();
    if (!fresh) {
      useSession.getState().expire();
      return parse<T>(res);
    }
    res = await send(path, opts, fresh);
  }
  return parse<T>(res);
}

let inflight: Promise<string | null> | null = null;

/**
 * Trade the session cookie's refresh token for a new pair (the server rotates the cookie). A
 * refresh token is single use, and presenting it twice ends the session, so concurrent callers
 * in this tab share one request, and tabs take turns through a Web Lock (the browser sends the
 * cookie current when each request leaves, by then rotated by the previous tab).
 */
export function refreshSession(): Promise<string | null> {
  if (inflight) return inflight;
  const run = async (): Promise<string | null> => {
    if (!useSession.getState().hasSession()) return null;
    try {
      const res = await send("/auth/refresh", { body: {}, csrf: true }, null);
      if (!res.ok) {
        useSession.getState().clear();
        return null;
      }
      const t = (await res.json()) as TokenResponse;
      useSession.getState().signedIn(t);
      return t.access_token;
    } catch {
      return null;
    }
  };
  const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
  const shared: Promise<string | null> = (locks ? locks.request("spontra.refresh", run).then((p) => p) : run()).finally(() => {
    inflight = null;
  });
  inflight = shared;
  return shared;
}
