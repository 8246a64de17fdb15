// Client session state (Zustand). The access token lives only in memory. The refresh token is
// an HttpOnly cookie that the server sets and script never sees (so an injected script cannot
// steal it); the app keeps only a flag in localStorage saying a session may exist, so a reload
// knows to try a refresh. Refresh tokens are single use and rotate on every refresh, and the
// server revokes the whole session if a used one is replayed.

import { create } from "zustand";
import type { Profile, TokenResponse } from "@/api/types";
import { storage } from "./storage";

const SESSION_FLAG = "spontra.session";


interface SessionState {
  accessToken: string | null;
  profile: Profile | null;
  /** Set when a session ended on its own (expired, revoked), to explain the sign-in page. */
  expired: boolean;
  /** The stored session has been restored (or there was none): pages may now decide. */
  ready: boolean;
  setReady: () => void;
  /** A session cookie may exist (this browser signed in and did not sign out). */
  hasSession: () => boolean;
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
  hasSession: () => storage()?.getItem(SESSION_FLAG) === "1",
  signedIn: (t) => {
    storage()?.setItem(SESSION_FLAG, "1");
    set({ accessToken: t.access_token, expired: false });
  },
  setProfile: (profile) => set({ profile }),
  clear: () => {
    storage()?.removeItem(SESSION_FLAG);
    set({ accessToken: null, profile: null });
  },
  expire: () => {
    storage()?.removeItem(SESSION_FLAG);
    set({ accessToken: null, profile: null, expired: true });
  },
}));
