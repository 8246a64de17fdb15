-- Price alerts (the pricing service) and the notification outbox (the notifications service).
CREATE TABLE alerts (
    id                BLOB PRIMARY KEY,
    user_id           BLOB NOT NULL REFERENCES users (id),
    spec              TEXT NOT NULL,            -- the definition as the user gave it (JSON)
    origin            TEXT NOT NULL,
    destination       TEXT,                     -- NULL: anywhere
    cabin             TEXT NOT NULL,
    depart_from       TEXT NOT NULL,
    depart_to         TEXT NOT NULL,
    return_from       TEXT,                     -- NULL: one way
    return_to         TEXT,
    paused            BOOLEAN NOT NULL DEFAULT FALSE,
    version           INTEGER NOT NULL,
    reference_minor   INTEGER,
    disarmed          BOOLEAN NOT NULL DEFAULT FALSE,
    last_price_minor  INTEGER,
    evaluated_at      TEXT,
    notified_at       TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX alerts_user ON alerts (user_id, created_at);
CREATE INDEX alerts_origin ON alerts (origin, cabin);
CREATE INDEX alerts_destination ON alerts (destination, cabin);

-- Notifications counted per user and UTC day (the daily cap).
CREATE TABLE alert_quota (
    user_id BLOB NOT NULL,
    day     TEXT NOT NULL,
    sent    INTEGER NOT NULL,
    PRIMARY KEY (user_id, day)
) WITHOUT ROWID;

CREATE TABLE notifications (
    id              BLOB PRIMARY KEY,
    user_id         BLOB NOT NULL REFERENCES users (id),
    alert_id        BLOB,
    channel         TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    lease_until     TEXT,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT
);
CREATE INDEX notifications_due ON notifications (status, next_attempt_at);
CREATE INDEX notifications_user ON notifications (user_id, created_at);
CREATE INDEX notifications_alert ON notifications (alert_id);

-- Anywhere alerts read the routes into their origin for the way back.
CREATE INDEX pricing_routes_destination ON pricing_routes (destination, cabin, departure_date);
