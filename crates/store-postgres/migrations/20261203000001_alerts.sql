-- Price alerts (the pricing service) and the notification outbox (the notifications service).
CREATE TABLE alerts (
    id                UUID PRIMARY KEY,
    user_id           UUID NOT NULL REFERENCES users (id),
    spec              TEXT NOT NULL,            -- the definition as the user gave it (JSON)
    origin            TEXT NOT NULL,
    destination       TEXT,                     -- NULL: anywhere
    cabin             TEXT NOT NULL,
    depart_from       DATE NOT NULL,
    depart_to         DATE NOT NULL,
    return_from       DATE,                     -- NULL: one way
    return_to         DATE,
    paused            BOOLEAN NOT NULL DEFAULT FALSE,
    version           BIGINT NOT NULL,
    reference_minor   BIGINT,
    disarmed          BOOLEAN NOT NULL DEFAULT FALSE,
    last_price_minor  BIGINT,
    evaluated_at      TIMESTAMPTZ,
    notified_at       TIMESTAMPTZ,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX alerts_user ON alerts (user_id, created_at);
CREATE INDEX alerts_origin ON alerts (origin, cabin);
CREATE INDEX alerts_destination ON alerts (destination, cabin);

-- Notifications counted per user and UTC day (the daily cap).
CREATE TABLE alert_quota (
    user_id UUID NOT NULL,
    day     DATE NOT NULL,
    sent    INTEGER NOT NULL,
    PRIMARY KEY (user_id, day)
);

CREATE TABLE notifications (
    id              UUID PRIMARY KEY,
    user_id         UUID NOT NULL REFERENCES users (id),
    alert_id        UUID,
    channel         TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    lease_until     TIMESTAMPTZ,
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ
);
CREATE INDEX notifications_due ON notifications (status, next_attempt_at);
CREATE INDEX notifications_user ON notifications (user_id, created_at);
CREATE INDEX notifications_alert ON notifications (alert_id);

-- Anywhere alerts read the routes into their origin for the way back.
CREATE INDEX pricing_routes_destination ON pricing_routes (destination, cabin, departure_date);
