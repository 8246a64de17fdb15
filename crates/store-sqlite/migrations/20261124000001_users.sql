-- Accounts, sessions with rotating refresh tokens, one-time tokens, preferences, consents.
CREATE TABLE users (
    id                BLOB PRIMARY KEY,
    email             TEXT UNIQUE,              -- NULL once the account is deleted
    password_hash     TEXT NOT NULL,
    display_name      TEXT NOT NULL,
    role              TEXT NOT NULL CHECK (role IN ('user', 'admin')),
    disabled          BOOLEAN NOT NULL DEFAULT FALSE,
    email_verified_at TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    deleted_at        TEXT
);
CREATE INDEX users_created ON users (created_at);

CREATE TABLE sessions (
    id           BLOB PRIMARY KEY,
    user_id      BLOB NOT NULL REFERENCES users (id),
    created_at   TEXT NOT NULL,
    last_used_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    revoked_at   TEXT,
    user_agent   TEXT NOT NULL,
    ip           TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Every refresh token ever issued in a session, by hash; a used one presented again
-- reveals theft and revokes the session.
CREATE TABLE refresh_tokens (
    hash       TEXT PRIMARY KEY,
    session_id BLOB NOT NULL REFERENCES sessions (id),
    issued_at  TEXT NOT NULL,
    used_at    TEXT
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE one_time_tokens (
    hash       TEXT PRIMARY KEY,
    user_id    BLOB NOT NULL REFERENCES users (id),
    purpose    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);

CREATE TABLE preferences (
    user_id    BLOB PRIMARY KEY REFERENCES users (id),
    document   TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE consents (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     BLOB NOT NULL REFERENCES users (id),
    kind        TEXT NOT NULL,
    granted     BOOLEAN NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX consents_user ON consents (user_id);
