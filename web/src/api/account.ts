// The signed-in traveller's account: profile, preferences, sessions, two-factor
// authentication, consents, export and deletion.

import { useQuery } from "@tanstack/react-query";
import { unwrap, userApi } from "./client";
import type { Schemas } from "./client";
import type { Preferences } from "./types";
import { useSession } from "@/lib/session";

export const fetchMe = () => unwrap(userApi.GET("/api/v1/me"));
export const renameMe = (display_name: string) => unwrap(userApi.PATCH("/api/v1/me", { body: { display_name } }));
export const deleteMe = (password: string, code?: string) => unwrap(userApi.DELETE("/api/v1/me", { body: { password, code: code || undefined } }));
export const exportMe = () => unwrap(userApi.GET("/api/v1/me/export"));

export const fetchPreferences = () => unwrap(userApi.GET("/api/v1/me/preferences"));
export const savePreferences = (body: Preferences) => unwrap(userApi.PUT("/api/v1/me/preferences", { body }));

/** The signed-in user's preferences (undefined when signed out). */
export function usePreferences() {
  const profile = useSession((s) => s.profile);
  return useQuery({ queryKey: ["preferences", profile?.id], queryFn: fetchPreferences, enabled: !!profile });
}

export const fetchSessions = () => unwrap(userApi.GET("/api/v1/me/sessions"));
export const endSession = (id: string) => unwrap(userApi.DELETE("/api/v1/me/sessions/{id}", { params: { path: { id } } }));

export const fetchTwoFactor = () => unwrap(userApi.GET("/api/v1/me/2fa"));
export const setUpTwoFactor = (password: string) => unwrap(userApi.POST("/api/v1/me/2fa/setup", { body: { password } }));
export const enableTwoFactor = (code: string) => unwrap(userApi.POST("/api/v1/me/2fa/enable", { body: { code } }));
export const disableTwoFactor = (body: Schemas["DisableTwoFactorBody"]) => unwrap(userApi.POST("/api/v1/me/2fa/disable", { body }));

export const fetchConsents = () => unwrap(userApi.GET("/api/v1/me/consents"));
export const saveConsents = (body: Schemas["ConsentsBody"]) => unwrap(userApi.PUT("/api/v1/me/consents", { body }));
