import { beforeEach, describe, expect, it, vi } from "vitest";

// A minimal localStorage for the session store and the API client.
const store = new Map<string, string>();
vi.stubGlobal("window", {
  localStorage: {
    getItem: (k: string) => store.get(k) ?? null,
    setItem: (k: string, v: string) => void store.set(k, v),
    removeItem: (k: string) => void store.delete(k),
  },
});

process.env.NEXT_PUBLIC_API_BASE = "http://api.test";
const { useSession } = await import("./session");
const { csrfToken, refreshSession, ApiProblem, unwrap, publicApi, userApi } = await import("@/api/client");
const { fetchSearch } = await import("@/api/search");
const me = () => unwrap(userApi.GET("/api/v1/me"));

const pair = (n: number) => ({ access_token: `a${n}`, refresh_token: `r${n}`, token_type: "Bearer", expires_in: 900, session_id: "s" });

function json(status: number, body: unknown) {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { "content-type": status >= 400 ? "application/problem+json" : "application/json" },
  });
}

beforeEach(() => {
  store.clear();
  useSession.setState({ accessToken: null, profile: null, expired: false, ready: false });
});

describe("session state", () => {
  it("keeps the access token in memory and no token in storage", () => {
    useSession.getState().signedIn(pair(1));
    expect(useSession.getState().accessToken).toBe("a1");
    expect([...store.entries()]).toEqual([["spontra.session", "1"]]);
    useSession.getState().clear();
    expect(store.size).toBe(0);
    expect(useSession.getState().accessToken).toBeNull();
  });

  it("shares one cookie refresh between concurrent callers, with the CSRF header", async () => {
    store.set("spontra.session", "1");
    vi.stubGlobal("document", { cookie: "other=1; spontra_csrf=c1" });
    const fetch = vi.fn(async (_req: Request) => json(200, pair(2)));
    vi.stubGlobal("fetch", fetch);
    const [a, b] = await Promise.all([refreshSession(), refreshSession()]);
    expect(a).toBe("a2");
    expect(b).toBe("a2");
    expect(fetch).toHaveBeenCalledTimes(1);
    const req = fetch.mock.calls[0][0];
    expect(req.headers.get("x-csrf-token")).toBe("c1");
    expect(await req.text()).toBe("{}");
  });

  it("does not try to refresh without a session", async () => {
    const fetch = vi.fn(async () => json(200, pair(2)));
    vi.stubGlobal("fetch", fetch);
    expect(await refreshSession()).toBeNull();
    expect(fetch).not.toHaveBeenCalled();
  });

  it("reads the CSRF cookie, preferring the __Host- one", () => {
    expect(csrfToken("a=1; spontra_csrf=abc")).toBe("abc");
    expect(csrfToken("__Host-spontra_csrf=h; spontra_csrf=x")).toBe("h");
    expect(csrfToken("")).toBe("");
  });

  it("refreshes an expired access token once and retries", async () => {
    useSession.getState().signedIn(pair(1));
    const calls: string[] = [];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (req: Request) => {
        const url = req.url;
        const auth = req.headers.get("authorization") ?? "";
        calls.push(`${url.replace("http://api.test", "")} ${auth}`);
        if (url.endsWith("/auth/refresh")) return json(200, pair(2));
        return auth === "Bearer a2" ? json(200, { ok: true }) : json(401, { code: "unauthorized", status: 401, title: "", detail: "expired", type: "" });
      }),
    );
    await expect(me()).resolves.toEqual({ ok: true });
    expect(calls).toEqual(["/api/v1/me Bearer a1", "/api/v1/auth/refresh ", "/api/v1/me Bearer a2"]);
  });

  it("ends the session cleanly when the refresh is refused", async () => {
    useSession.getState().signedIn(pair(1));
    vi.stubGlobal(
      "fetch",
      vi.fn(async (req: Request) =>
        req.url.endsWith("/auth/refresh")
          ? json(401, { code: "token_reused", status: 401, title: "", detail: "ended", type: "" })
          : json(401, { code: "unauthorized", status: 401, title: "", detail: "expired", type: "" }),
      ),
    );
    const err = await me().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiProblem);
    expect(useSession.getState().expired).toBe(true);
    expect(store.size).toBe(0);
  });

  it("turns problem+json into field errors and Retry-After", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(
        async () =>
          new Response(JSON.stringify({ code: "too_many_attempts", status: 429, title: "", detail: "wait", type: "", errors: [{ field: "email", code: "x", message: "m" }] }), {
            status: 429,
            headers: { "retry-after": "8" },
          }),
      ),
    );
    const err = (await unwrap(publicApi.POST("/api/v1/auth/login", { body: { email: "a@example.com", password: "x" } })).catch((e: unknown) => e)) as InstanceType<typeof ApiProblem>;
    expect(err.code).toBe("too_many_attempts");
    expect(err.retryAfter).toBe(8);
    expect(err.fieldMessage("email")).toBe("m");
  });

  it("sends lists comma-separated, as the document declares them", async () => {
    const urls: string[] = [];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (req: Request) => {
        urls.push(req.url);
        return json(200, { itineraries: [] });
      }),
    );
    await fetchSearch({ query: { origin: "LHR", destination: "JFK", depart: "2026-12-10", carriers: ["BA", "AA"] } });
    const q = new URL(urls[0]).searchParams;
    expect(new URL(urls[0]).pathname).toBe("/api/v1/search");
    expect(q.getAll("carriers")).toEqual(["BA,AA"]);
  });
});
