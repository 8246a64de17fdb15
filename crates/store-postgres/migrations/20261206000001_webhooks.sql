-- Webhooks: where a user's price alerts are also posted, and the key each delivery is signed
-- with (kept as given: signing needs it). A delivery is a notification on channel `webhook`.
CREATE TABLE webhooks (
    id         UUID PRIMARY KEY,
    user_id    UUID NOT NULL REFERENCES users (id),
    url        TEXT NOT NULL,
    secret     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhooks_user ON webhooks (user_id, created_at);

ALTER TABLE notifications ADD COLUMN webhook_id UUID;
CREATE INDEX notifications_webhook ON notifications (webhook_id, created_at);
