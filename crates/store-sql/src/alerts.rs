//! `spontra_store::AlertStore` in portable SQL. `$skip_locked` is what a claim's row lock
//! says: PostgreSQL's `FOR UPDATE SKIP LOCKED` (concurrent workers take different rows without
//! waiting); empty on SQLite, whose one writer runs claims one after another.

/// Implement `spontra_store::AlertStore` for `$store`.
#[macro_export]
macro_rules! impl_alert_store {
    ($store:ty, $db:ty, $skip_locked:literal) => {
        const ALERT_COLUMNS: &str = "id, user_id, spec, origin, destination, cabin, depart_from, depart_to, \
            return_from, return_to, paused, version, reference_minor, disarmed, last_price_minor, evaluated_at, \
            notified_at, created_at, updated_at";
        const NOTIFICATION_COLUMNS: &str = "id, user_id, alert_id, channel, webhook_id, payload, status, attempts, \
            next_attempt_at, last_error, created_at, sent_at";
        const WEBHOOK_COLUMNS: &str = "id, user_id, url, secret, created_at";
        /// Alerts whose dates have not all passed by `$today`.
        const ALIVE: &str = "NOT paused AND COALESCE(return_to, depart_to) >= ";

        fn alert_from_row(row: &<$db as $crate::sqlx::Database>::Row) -> Result<spontra_store::Alert, $crate::sqlx::Error> {
            use $crate::sqlx::Row;
            let returns = match (row.try_get("return_from")?, row.try_get("return_to")?) {
                (Some(from), Some(to)) => Some((from, to)),
                _ => None,
            };
            Ok(spontra_store::Alert {
                id: spontra_store::AlertId(row.try_get("id")?),
                user_id: spontra_store::UserId(row.try_get("user_id")?),
                spec: row.try_get("spec")?,
                watched: spontra_store::Watched {
                    origin: row.try_get("origin")?,
                    destination: row.try_get("destination")?,
                    cabin: row.try_get("cabin")?,
                    depart: (row.try_get("depart_from")?, row.try_get("depart_to")?),
                    returns,
                },
                paused: row.try_get("paused")?,
                version: row.try_get("version")?,
                watch: spontra_store::Watch {
                    reference_minor: row.try_get("reference_minor")?,
                    disarmed: row.try_get("disarmed")?,
                    last_price_minor: row.try_get("last_price_minor")?,
                    evaluated_at: row.try_get("evaluated_at")?,
                    notified_at: row.try_get("notified_at")?,
                },
                created_at: row.try_get("created_at")?,
                updated_at: row.try_get("updated_at")?,
            })
        }

        fn notification_from_row(row: &<$db as $crate::sqlx::Database>::Row) -> Result<spontra_store::Notification, $crate::sqlx::Error> {
            use $crate::sqlx::Row;
            let status: String = row.try_get("status")?;
            let alert: Option<uuid::Uuid> = row.try_get("alert_id")?;
            let webhook: Option<uuid::Uuid> = row.try_get("webhook_id")?;
            Ok(spontra_store::Notification {
                id: spontra_store::NotificationId(row.try_get("id")?),
                user_id: spontra_store::UserId(row.try_get("user_id")?),
                alert_id: alert.map(spontra_store::AlertId),
                channel: row.try_get("channel")?,
                webhook_id: webhook.map(spontra_store::WebhookId),
                payload: row.try_get("payload")?,
                status: spontra_store::Delivery::parse(&status).unwrap_or(spontra_store::Delivery::Dead),
                attempts: row.try_get("attempts")?,
                next_attempt_at: row.try_get("next_attempt_at")?,
                last_error: row.try_get("last_error")?,
                created_at: row.try_get("created_at")?,
                sent_at: row.try_get("sent_at")?,
            })
        }

        fn notifications_from_rows(rows: Vec<<$db as $crate::sqlx::Database>::Row>) -> spontra_store::StoreResult<Vec<spontra_store::Notification>> {
            rows.iter().map(|r| notification_from_row(r).map_err($crate::translate)).collect()
        }

        fn webhook_from_row(row: &<$db as $crate::sqlx::Database>::Row) -> Result<spontra_store::Webhook, $crate::sqlx::Error> {
            use $crate::sqlx::Row;
            Ok(spontra_store::Webhook {
                id: spontra_store::WebhookId(row.try_get("id")?),
                user_id: spontra_store::UserId(row.try_get("user_id")?),
                url: row.try_get("url")?,
                secret: row.try_get("secret")?,
                created_at: row.try_get("created_at")?,
            })
        }

        fn alerts_from_rows(rows: Vec<<$db as $crate::sqlx::Database>::Row>) -> spontra_store::StoreResult<Vec<spontra_store::Alert>> {
            rows.iter().map(|r| alert_from_row(r).map_err($crate::translate)).collect()
        }

        async fn insert_notification(
            tx: &mut $crate::sqlx::Transaction<'_, $db>,
            n: &spontra_store::NewNotification,
        ) -> Result<(), $crate::sqlx::Error> {
            $crate::sqlx::query(
                "INSERT INTO notifications (id, user_id, alert_id, channel, webhook_id, payload, status, attempts, \
                 next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7)",
            )
            .bind(n.id.0)
            .bind(n.user_id.0)
            .bind(n.alert_id.map(|a| a.0))
            .bind(&n.channel)
            .bind(n.webhook_id.map(|w| w.0))
            .bind(&n.payload)
            .bind(n.created_at)
            .execute(&mut **tx)
            .await
            .map(|_| ())
        }

        #[async_trait::async_trait]
        impl spontra_store::AlertStore for $store {
            async fn create_alert(&self, a: &spontra_store::Alert, max_per_user: u32) -> spontra_store::StoreResult<()> {
                let tr = $crate::translate;
                let mut tx = self.begin_write().await.map_err(tr)?;
                // The account row orders one user's creators, so the count holds.
                if !lock_account_in(&mut tx, a.user_id.0).await.map_err(tr)? {
                    return Err(spontra_store::StoreError::NotFound);
                }
                let (held,): (i64,) = $crate::sqlx::query_as("SELECT COUNT(*) FROM alerts WHERE user_id = $1")
                    .bind(a.user_id.0)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(tr)?;
                if held >= i64::from(max_per_user) {
                    return Err(spontra_store::StoreError::Conflict("alerts_per_user".into()));
                }
                let w = &a.watched;
                $crate::sqlx::query(
                    "INSERT INTO alerts (id, user_id, spec, origin, destination, cabin, depart_from, depart_to, \
                     return_from, return_to, paused, version, disarmed, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, FALSE, $13, $13)",
                )
                .bind(a.id.0)
                .bind(a.user_id.0)
                .bind(&a.spec)
                .bind(&w.origin)
                .bind(&w.destination)
                .bind(&w.cabin)
                .bind(w.depart.0)
                .bind(w.depart.1)
                .bind(w.returns.map(|r| r.0))
                .bind(w.returns.map(|r| r.1))
                .bind(a.paused)
                .bind(a.version)
                .bind(a.created_at)
                .execute(&mut *tx)
                .await
                .map_err(tr)?;
                tx.commit().await.map_err(tr)
            }

            async fn alerts_of(&self, user: spontra_store::UserId) -> spontra_store::StoreResult<Vec<spontra_store::Alert>> {
                let rows = $crate::sqlx::query(&format!(
                    "SELECT {ALERT_COLUMNS} FROM alerts WHERE user_id = $1 ORDER BY created_at DESC, id"
                ))
                .bind(user.0)
                .fetch_all(&self.reader)
                .await
                .map_err($crate::translate)?;
                alerts_from_rows(rows)
            }

            async fn alert(&self, user: spontra_store::UserId, id: spontra_store::AlertId) -> spontra_store::StoreResult<spontra_store::Alert> {
                let row = $crate::sqlx::query(&format!(
                    "SELECT {ALERT_COLUMNS} FROM alerts WHERE id = $1 AND user_id = $2"
                ))
                .bind(id.0)
                .bind(user.0)
                .fetch_one(&self.reader)
                .await
                .map_err($crate::translate)?;
                alert_from_row(&row).map_err($crate::translate)
            }

            async fn update_alert(
                &self,
                user: spontra_store::UserId,
                id: spontra_store::AlertId,
                change: &spontra_store::AlertChange,
                at: chrono::DateTime<chrono::Utc>,
            ) -> spontra_store::StoreResult<spontra_store::Alert> {
                let tr = $crate::translate;
                let mut tx = self.begin_write().await.map_err(tr)?;
                if let Some((spec, w)) = &change.definition {
                    // A new trip: its prices start afresh.
                    let done = $crate::sqlx::query(
                        "UPDATE alerts SET spec = $3, origin = $4, destination = $5, cabin = $6, depart_from = $7, \
                         depart_to = $8, return_from = $9, return_to = $10, reference_minor = NULL, disarmed = FALSE, \
                         last_price_minor = NULL, evaluated_at = NULL WHERE id = $1 AND user_id = $2",
                    )
                    .bind(id.0)
                    .bind(user.0)
                    .bind(spec)
                    .bind(&w.origin)
                    .bind(&w.destination)
                    .bind(&w.cabin)
                    .bind(w.depart.0)
                    .bind(w.depart.1)
                    .bind(w.returns.map(|r| r.0))
                    .bind(w.returns.map(|r| r.1))
                    .execute(&mut *tx)
                    .await
                    .map_err(tr)?;
                    if done.rows_affected() == 0 {
                        return Err(spontra_store::StoreError::NotFound);
                    }
                }
                let row = $crate::sqlx::query(&format!(
                    "UPDATE alerts SET paused = COALESCE($3, paused), version = version + 1, updated_at = $4 \
                     WHERE id = $1 AND user_id = $2 RETURNING {ALERT_COLUMNS}"
                ))
                .bind(id.0)
                .bind(user.0)
                .bind(change.paused)
                .bind(at)
                .fetch_one(&mut *tx)
                .await
                .map_err(tr)?;
                let alert = alert_from_row(&row).map_err(tr)?;
                tx.commit().await.map_err(tr)?;
                Ok(alert)
            }

            async fn delete_alert(&self, user: spontra_store::UserId, id: spontra_store::AlertId) -> spontra_store::StoreResult<()> {
                let tr = $crate::translate;
                let mut tx = self.begin_write().await.map_err(tr)?;
                let done = $crate::sqlx::query("DELETE FROM alerts WHERE id = $1 AND user_id = $2")
                    .bind(id.0)
                    .bind(user.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(tr)?;
                if done.rows_affected() == 0 {
                    return Err(spontra_store::StoreError::NotFound);
                }
                $crate::sqlx::query("UPDATE notifications SET alert_id = NULL WHERE alert_id = $1")
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(tr)?;
                tx.commit().await.map_err(tr)
            }

            async fn pause_alert(&self, id: spontra_store::AlertId, at: chrono::DateTime<chrono::Utc>) -> spontra_store::StoreResult<()> {
                let mut tx = self.begin_write().await.map_err($crate::translate)?;
                let done = $crate::sqlx::query(
                    "UPDATE alerts SET paused = TRUE, version = version + 1, updated_at = $2 WHERE id = $1",
                )
                .bind(id.0)
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err($crate::translate)?;
                if done.rows_affected() == 0 {
                    return Err(spontra_store::StoreError::NotFound);
                }
                tx.commit().await.map_err($crate::translate)
            }

            async fn alerts_touching(
                &self,
                cabin: &str,
                airports: &[String],
                today: chrono::NaiveDate,
            ) -> spontra_store::StoreResult<Vec<spontra_store::Alert>> {
                let mut out = Vec::new();
                for chunk in airports.chunks(400) {
                    let mut q = $crate::sqlx::QueryBuilder::<$db>::new(format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE {ALIVE}"));
                    q.push_bind(today).push(" AND cabin = ").push_bind(cabin).push(" AND (origin IN (");
                    let mut list = q.separated(", ");
                    for a in chunk {
                        list.push_bind(a);
                    }
                    q.push(") OR destination IN (");
                    let mut list = q.separated(", ");
                    for a in chunk {
                        list.push_bind(a);
                    }
                    q.push(")) ORDER BY id");
                    let rows = q.build().fetch_all(&self.reader).await.map_err($crate::translate)?;
                    out.extend(alerts_from_rows(rows)?);
                }
                out.sort_by_key(|a| a.id);
                out.dedup_by_key(|a| a.id);
                Ok(out)
            }

            async fn live_alerts(
                &self,
                after: Option<spontra_store::AlertId>,
                today: chrono::NaiveDate,
                limit: u32,
            ) -> spontra_store::StoreResult<Vec<spontra_store::Alert>> {
                let rows = $crate::sqlx::query(&format!(
                    "SELECT {ALERT_COLUMNS} FROM alerts WHERE {ALIVE} $1 AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3"
                ))
                .bind(today)
                .bind(after.map(|a| a.0))
                .bind(i64::from(limit))
                .fetch_all(&self.reader)
                .await
                .map_err($crate::translate)?;
                alerts_from_rows(rows)
            }

            async fn settle(
                &self,
                id: spontra_store::AlertId,
                version: i64,
                watch: &spontra_store::Watch,
                notify: Option<&spontra_store::NewNotification>,
                daily_cap: u32,
                day: chrono::NaiveDate,
            ) -> spontra_store::StoreResult<spontra_store::Settled> {
                let tr = $crate::translate;
                let mut tx = self.begin_write().await.map_err(tr)?;
                // The version is the claim: of two evaluators that read the same alert, the
                // second finds it changed.
                let done = $crate::sqlx::query(
                    "UPDATE alerts SET reference_minor = $3, disarmed = $4, last_price_minor = $5, evaluated_at = $6, \
                     notified_at = $7, version = version + 1 WHERE id = $1 AND version = $2 AND NOT paused",
                )
                .bind(id.0)
                .bind(version)
                .bind(watch.reference_minor)
                .bind(watch.disarmed)
                .bind(watch.last_price_minor)
                .bind(watch.evaluated_at)
                .bind(watch.notified_at)
                .execute(&mut *tx)
                .await
                .map_err(tr)?;
                if done.rows_affected() == 0 {
                    return Ok(spontra_store::Settled::Stale);
                }
                if let Some(mail) = notify {
                    let counted: Option<(i32,)> = $crate::sqlx::query_as(
                        "INSERT INTO alert_quota (user_id, day, sent) VALUES ($1, $2, 1) \
                         ON CONFLICT (user_id, day) DO UPDATE SET sent = alert_quota.sent + 1 \
                         WHERE alert_quota.sent < $3 RETURNING sent",
                    )
                    .bind(mail.user_id.0)
                    .bind(day)
                    .bind(i64::from(daily_cap.max(1)))
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(tr)?;
                    if counted.is_none() {
                        return Ok(spontra_store::Settled::Capped);
                    }
                    insert_notification(&mut tx, mail).await.map_err(tr)?;
                    let hooks: Vec<(uuid::Uuid,)> = $crate::sqlx::query_as("SELECT id FROM webhooks WHERE user_id = $1")
                        .bind(mail.user_id.0)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(tr)?;
                    for (hook,) in hooks {
                        let copy = spontra_store::NewNotification {
                            id: spontra_store::NotificationId::new(),
                            channel: "webhook".into(),
                            webhook_id: Some(spontra_store::WebhookId(hook)),
                            ..mail.clone()
                        };
                        insert_notification(&mut tx, &copy).await.map_err(tr)?;
                    }
                }
                tx.commit().await.map_err(tr)?;
                Ok(spontra_store::Settled::Saved)
            }

            async fn enqueue(&self, n: &spontra_store::NewNotification) -> spontra_store::StoreResult<()> {
                let mut tx = self.begin_write().await.map_err($crate::translate)?;
                insert_notification(&mut tx, n).await.map_err($crate::translate)?;
                tx.commit().await.map_err($crate::translate)
            }

            async fn claim(
                &self,
                now: chrono::DateTime<chrono::Utc>,
                lease_until: chrono::DateTime<chrono::Utc>,
                limit: u32,
            ) -> spontra_store::StoreResult<Vec<spontra_store::Notification>> {
                let tr = $crate::translate;
                let mut tx = self.begin_write().await.map_err(tr)?;
                let rows = $crate::sqlx::query(&format!(
                    "UPDATE notifications SET lease_until = $2, attempts = attempts + 1 WHERE id IN \
                     (SELECT id FROM notifications WHERE status = 'pending' AND next_attempt_at <= $1 \
                      AND (lease_until IS NULL OR lease_until <= $1) ORDER BY next_attempt_at LIMIT $3 {}) \
                     RETURNING {NOTIFICATION_COLUMNS}",
                    $skip_locked
                ))
                .bind(now)
                .bind(lease_until)
                .bind(i64::from(limit))
                .fetch_all(&mut *tx)
                .await
                .map_err(tr)?;
                tx.commit().await.map_err(tr)?;
                let mut out: Vec<spontra_store::Notification> = rows
                    .iter()
                    .map(|r| notification_from_row(r).map_err(tr))
                    .collect::<Result<_, _>>()?;
                out.sort_by_key(|n| (n.next_attempt_at, n.id));
                Ok(out)
            }

            async fn finish(
                &self,
                id: spontra_store::NotificationId,
                outcome: &spontra_store::Outcome,
                at: chrono::DateTime<chrono::Utc>,
            ) -> spontra_store::StoreResult<()> {
                use spontra_store::Outcome;
                let (status, next, error, sent) = match outcome {
                    Outcome::Sent => ("sent", at, None, Some(at)),
                    Outcome::Retry { at: next, error } => ("pending", *next, Some(error.as_str()), None),
                    Outcome::Dead { error } => ("dead", at, Some(error.as_str()), None),
                };
                let mut tx = self.begin_write().await.map_err($crate::translate)?;
                let done = $crate::sqlx::query(
                    "UPDATE notifications SET status = $2, next_attempt_at = $3, last_error = COALESCE($4, last_error), \
                     sent_at = $5, lease_until = NULL WHERE id = $1 AND status = 'pending'",
                )
                .bind(id.0)
                .bind(status)
                .bind(next)
                .bind(error)
                .bind(sent)
                .execute(&mut *tx)
                .await
                .map_err($crate::translate)?;
                if done.rows_affected() == 0 {
                    return Err(spontra_store::StoreError::NotFound);
                }
                tx.commit().await.map_err($crate::translate)
            }

            async fn notifications_of(&self, user: spontra_store::UserId, limit: u32) -> spontra_store::StoreResult<Vec<spontra_store::Notification>> {
                let rows = $crate::sqlx::query(&format!(
                    "SELECT {NOTIFICATION_COLUMNS} FROM notifications WHERE user_id = $1 ORDER BY created_at DESC, id LIMIT $2"
                ))
                .bind(user.0)
                .bind(i64::from(limit))
                .fetch_all(&self.reader)
                .await
                .map_err($crate::translate)?;
                notifications_from_rows(rows)
            }

            async fn create_webhook(&self, w: &spontra_store::Webhook, max_per_user: u32) -> spontra_store::StoreResult<()> {
                let tr = $crate::translate;
                let mut tx = self.begin_write().await.map_err(tr)?;
                if !lock_account_in(&mut tx, w.user_id.0).await.map_err(tr)? {
                    return Err(spontra_store::StoreError::NotFound);
                }
                let (held,): (i64,) = $crate::sqlx::query_as("SELECT COUNT(*) FROM webhooks WHERE user_id = $1")
                    .bind(w.user_id.0)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(tr)?;
                if held >= i64::from(max_per_user) {
                    return Err(spontra_store::StoreError::Conflict("webhooks_per_user".into()));
                }
                $crate::sqlx::query("INSERT INTO webhooks (id, user_id, url, secret, created_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(w.id.0)
                    .bind(w.user_id.0)
                    .bind(&w.url)
                    .bind(&w.secret)
                    .bind(w.created_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(tr)?;
                tx.commit().await.map_err(tr)
            }

            async fn webhooks_of(&self, user: spontra_store::UserId) -> spontra_store::StoreResult<Vec<spontra_store::Webhook>> {
                let rows = $crate::sqlx::query(&format!(
                    "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE user_id = $1 ORDER BY created_at, id"
                ))
                .bind(user.0)
                .fetch_all(&self.reader)
                .await
                .map_err($crate::translate)?;
                rows.iter().map(|r| webhook_from_row(r).map_err($crate::translate)).collect()
            }

            async fn webhook(&self, user: spontra_store::UserId, id: spontra_store::WebhookId) -> spontra_store::StoreResult<spontra_store::Webhook> {
                let row = $crate::sqlx::query(&format!(
                    "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1 AND user_id = $2"
                ))
                .bind(id.0)
                .bind(user.0)
                .fetch_one(&self.reader)
                .await
                .map_err($crate::translate)?;
                webhook_from_row(&row).map_err($crate::translate)
            }

            async fn delete_webhook(&self, user: spontra_store::UserId, id: spontra_store::WebhookId) -> spontra_store::StoreResult<()> {
                let tr = $crate::translate;
                let mut tx = self.begin_write().await.map_err(tr)?;
                let done = $crate::sqlx::query("DELETE FROM webhooks WHERE id = $1 AND user_id = $2")
                    .bind(id.0)
                    .bind(user.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(tr)?;
                if done.rows_affected() == 0 {
                    return Err(spontra_store::StoreError::NotFound);
                }
                $crate::sqlx::query("DELETE FROM notifications WHERE webhook_id = $1")
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(tr)?;
                tx.commit().await.map_err(tr)
            }

            async fn deliveries(
                &self,
                user: spontra_store::UserId,
                id: spontra_store::WebhookId,
                limit: u32,
            ) -> spontra_store::StoreResult<Vec<spontra_store::Notification>> {
                let rows = $crate::sqlx::query(&format!(
                    "SELECT {NOTIFICATION_COLUMNS} FROM notifications WHERE webhook_id = $1 AND user_id = $2 \
                     ORDER BY created_at DESC, id LIMIT $3"
                ))
                .bind(id.0)
                .bind(user.0)
                .bind(i64::from(limit))
                .fetch_all(&self.reader)
                .await
                .map_err($crate::translate)?;
                notifications_from_rows(rows)
            }
        }
    };
}
