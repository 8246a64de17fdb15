// Signing up and in, email links, signing out.

import { publicApi, unwrap, userApi } from "./client";
import type { Schemas } from "./client";

export const register = (body: Schemas["RegisterBody"]) => unwrap(publicApi.POST("/api/v1/auth/register", { body }));
/** A token pair (200), or a challenge for the second factor (202). */
export const login = (body: Schemas["LoginBody"]) => unwrap(publicApi.POST("/api/v1/auth/login", { body }));
export const loginSecondFactor = (body: Schemas["SecondFactorBody"]) => unwrap(publicApi.POST("/api/v1/auth/login/2fa", { body }));
export const logout = () => unwrap(userApi.POST("/api/v1/auth/logout"));
export const logoutEverywhere = () => unwrap(userApi.POST("/api/v1/auth/logout-all"));
export const verifyEmail = (token: string) => unwrap(publicApi.POST("/api/v1/auth/verify-email", { body: { token } }));
export const resendVerification = () => unwrap(userApi.POST("/api/v1/auth/verify-email/resend"));
export const forgotPassword = (email: string) => unwrap(publicApi.POST("/api/v1/auth/forgot-password", { body: { email } }));
export const resetPassword = (body: Schemas["ResetPasswordBody"]) => unwrap(publicApi.POST("/api/v1/auth/reset-password", { body }));
