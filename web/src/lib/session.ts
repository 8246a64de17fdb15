// Client session state (Zustand). The access token lives only in memory; the refresh token is
// kept in localStorage so a reload keeps the session. Refresh tokens are single use and rotate
// on every refresh, and the server revokes the whole session if a used one is replayed, so a
// stolen copy is detected the next time either party uses it.

import { create } from "zustand";
import type { Profile, TokenResponse } from "./types";

const REFRESH_KEY = "spontra.refresh";

function storage(): Storage | null {
  try {
    return typeof window === "undefined" ? null : window.localStorage;
  } catch {
    return null;
  }
}

interface SessionState {
  accessToken: string | null;
  profile: Profile | null;
  /** Set when a session ended on its own (expired, revoked), to explain the sign-in page. */
  expired: boolean;
  /** The stored session has been restored (or there was none): pages may now decide. */
  ready: boolean;
  setReady: () => void;
  refreshToken: () => string | null;
  signedIn: (t: TokenResponse) => void;
  setProfile: (p: Profile | null) => void;
  clear: () => void;
  expire: () => void;
}

export const useSession = create<SessionState>((set) => ({
  accessToken: null,
  profile: null,
  expired: false,
  ready: false,
  setReady: () => set({ ready: true }),
  refreshToken: () => storage()?.getItem(REFRESH_KEY) ?? null,
  signedIn: (t) => {
    storage()?.setItem(REFRESH_KEY, t.refresh_token);
    set({ accessToken: t.access_token, expired: false });
  },
  setProfile: (profile) => set({ profile }),
  clear: () => {
    storage()?.removeItem(REFRESH_KEY);
    set({ accessToken: null, profile: null });
  },
  expire: () => {
    storage()?.removeItem(REFRESH_KEY);
    set({ accessToken: null, profile: null, expired: true });
  },
}));
