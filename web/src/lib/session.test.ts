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

const { useSession } = await import("./session");
const { api, csrfToken, refreshSession, ApiProblem } = await import("./api");

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
    const fetch = vi.fn(async (_url: string, _init: RequestInit) => json(200, pair(2)));
    vi.stubGlobal("fetch", fetch);
    const [a, b] = await Promise.all([refreshSession(), refreshSession()]);
    expect(a).toBe("a2");
    expect(b).toBe("a2");
    expect(fetch).toHaveBeenCalledTimes(1);
    const init = fetch.mock.calls[0][1];
    expect((init.headers as Record<string, string>)["x-csrf-token"]).toBe("c1");
    expect(init.body).toBe("{}");
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
      vi.fn(async (url: string, init: RequestInit) => {
        const auth = (init.headers as Record<string, string>).authorization ?? "";
        calls.push(`${url} ${auth}`);
        if (url.endsWith("/auth/refresh")) return json(200, pair(2));
        return auth === "Bearer a2" ? json(200, { ok: true }) : json(401, { code: "unauthorized", status: 401, title: "", detail: "expired", type: "" });
      }),
    );
    await expect(api("/me", { auth: true })).resolves.toEqual({ ok: true });
    expect(calls).toEqual(["/api/v1/me Bearer a1", "/api/v1/auth/refresh ", "/api/v1/me Bearer a2"]);
  });

  it("ends the session cleanly when the refresh is refused", async () => {
    useSession.getState().signedIn(pair(1));
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string) =>
        url.endsWith("/auth/refresh")
          ? json(401, { code: "token_reused", status: 401, title: "", detail: "ended", type: "" })
          : json(401, { code: "unauthorized", status: 401, title: "", detail: "expired", type: "" }),
      ),
    );
    const err = await api("/me", { auth: true }).catch((e) => e);
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
    const err = (await api("/auth/login", { body: {} }).catch((e) => e)) as InstanceType<typeof ApiProblem>;
    expect(err.code).toBe("too_many_attempts");
    expect(err.retryAfter).toBe(8);
    expect(err.fieldMessage("email")).toBe("m");
  });
});
