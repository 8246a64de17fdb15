-- Issue #8: idle session expiry, two-factor authentication (TOTP) and recovery codes.

-- Sessions end after `idle_expires_at` without a refresh (each refresh moves it forward),
-- as well as at `expires_at`. `mfa` records that the session proved a second factor.
ALTER TABLE sessions ADD COLUMN idle_expires_at TEXT;
UPDATE sessions SET idle_expires_at = expires_at;
ALTER TABLE sessions ADD COLUMN mfa BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- The TOTP secret (pending until `totp_enabled_at` is set) and the last time step accepted,
-- so a code is never accepted twice (RFC 6238 section 5.2).
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_enabled_at TEXT;
ALTER TABLE users ADD COLUMN totp_last_step INTEGER;

-- Single-use recovery codes, by SHA-256 digest.
CREATE TABLE recovery_codes (
    hash    TEXT PRIMARY KEY,
    user_id BLOB NOT NULL REFERENCES users (id),
    used_at TEXT
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);
CREATE INDEX one_time_tokens_expiry ON one_time_tokens (expires_at);
