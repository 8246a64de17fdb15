-- Webhooks: where a user's price alerts are also posted, and the key each delivery is signed
-- with (kept as given: signing needs it). A delivery is a notification on channel `webhook`.
CREATE TABLE webhooks (
    id         BLOB PRIMARY KEY,
    user_id    BLOB NOT NULL REFERENCES users (id),
    url        TEXT NOT NULL,
    secret     TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX webhooks_user ON webhooks (user_id, created_at);

ALTER TABLE notifications ADD COLUMN webhook_id BLOB;
CREATE INDEX notifications_webhook ON notifications (webhook_id, created_at);
