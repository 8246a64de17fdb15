//! The store traits implemented once in portable SQL (numbered `$n` parameters, `RETURNING`,
//! `lower(..) LIKE`), instantiated for SQLite and PostgreSQL by [`impl_user_store!`]. Each
//! backend crate keeps its own connection setup and migrations (the column types differ); the
//! statements do not, so they are written once here rather than twice.
//!
//! Each backend struct has a `reader` and a `writer` pool and a `begin_write()` method. On
//! SQLite the writer is a single connection and write transactions start with `BEGIN
//! IMMEDIATE`, so writes queue in-process instead of failing with "database is locked" when a
//! deferred transaction cannot upgrade its lock; on PostgreSQL both are the same pool and row
//! locks order concurrent writers. Every read-then-write is either one conditional statement
//! or runs in such a transaction.

pub use sqlx;

mod alerts;

/// Driver error codes that mean "busy, try again": SQLite's BUSY and LOCKED with their
/// extended codes; PostgreSQL's serialization failure, deadlock, lock not available, too many
/// connections and "cannot connect now".
const TRANSIENT_CODES: &[&str] = &[
    "5", "6", "261", "262", "517", "773", "40001", "40P01", "55P03", "53300", "57P03",
];

/// Translate a driver error at the store boundary.
pub fn translate(e: sqlx::Error) -> spontra_store_error::StoreError {
    use spontra_store_error::StoreError;
    match e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(db.constraint().unwrap_or("unique").to_string())
        }
        sqlx::Error::Database(db)
            if db
                .code()
                .is_some_and(|c| TRANSIENT_CODES.contains(&c.as_ref())) =>
        {
            StoreError::Unavailable(db.to_string())
        }
        e @ (sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)) => {
            StoreError::Unavailable(e.to_string())
        }
        other => StoreError::Backend(other.to_string()),
    }
}

#[doc(hidden)]
pub mod spontra_store_error {
    pub use spontra_store::StoreError;
}

/// Implement `spontra_store::UserStore` for `$store` (a struct with `reader` and `writer`
/// pools of `$db`, and an `async fn begin_write(&self)` starting a write transaction).
#[macro_export]
macro_rules! impl_user_store {
    ($store:ty, $db:ty) => {
        const USER_COLUMNS: &str = "id, email, password_hash, display_name, role, disabled, email_verified_at, created_at, updated_at, deleted_at, totp_secret, totp_enabled_at";
        const SESSION_COLUMNS: &str = "id, user_id, created_at, last_used_at, expires_at, COALESCE(idle_expires_at, expires_at) AS idle_expires_at, revoked_at, user_agent, ip, mfa";
        /// A session is live when none of these hold (`$2` is now).
        const LIVE: &str = "revoked_at IS NULL AND expires_at > $2 AND COALESCE(idle_expires_at, expires_at) > $2";

        fn user_from_row(row: &<$db as $crate::sqlx::Database>::Row) -> Result<spontra_store::User, $crate::sqlx::Error> {
            use $crate::sqlx::Row;
            let email: Option<String> = row.try_get("email")?;
            let role: String = row.try_get("role")?;
            Ok(spontra_store::User {
                id: spontra_store::UserId(row.try_get("id")?),
                email: email.and_then(|e| spontra_domain::Email::parse(&e).ok()),
                password_hash: row.try_get("password_hash")?,
                display_name: row.try_get("display_name")?,
                role: spontra_store::Role::parse(&role).unwrap_or(spontra_store::Role::User),
                disabled: row.try_get("disabled")?,
                email_verified_at: row.try_get("email_verified_at")?,
                created_at: row.try_get("created_at")?,
                updated_at: row.try_get("updated_at")?,
                deleted_at: row.try_get("deleted_at")?,
                totp_secret: row.try_get("totp_secret")?,
                totp_enabled_at: row.try_get("totp_enabled_at")?,
            })
        }

        fn session_from_row(row: &<$db as $crate::sqlx::Database>::Row) -> Result<spontra_store::Session, $crate::sqlx::Error> {
            use $crate::sqlx::Row;
            Ok(spontra_store::Session {
                id: spontra_store::SessionId(row.try_get("id")?),
                user_id: spontra_store::UserId(row.try_get("user_id")?),
                created_at: row.try_get("created_at")?,
                last_used_at: row.try_get("last_used_at")?,
                expires_at: row.try_get("expires_at")?,
                idle_expires_at: row.try_get("idle_expires_at")?,
                revoked_at: row.try_get("revoked_at")?,
                user_agent: row.try_get("user_agent")?,
                ip: row.try_get("ip")?,
                mfa: row.try_get("mfa")?,
            })
        }

        async fn revoke_in(
            tx: &mut $crate::sqlx::Transaction<'_, $db>,
            session: uuid::Uuid,
            now: chrono::DateTime<chrono::Utc>,
        ) -> Result<(), $crate::sqlx::Error> {
            $crate::sqlx::query("UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                .bind(session)
                .bind(now)
                .execute(&mut **tx)
                .await
                .map(|_| ())
        }

        /// Lock the account row (a no-op write), so writers of one account's sessions and
        /// codes take turns and lock in one order; whether the account exists.
        async fn lock_account_in(
            tx: &mut $crate::sqlx::Transaction<'_, $db>,
            user: uuid::Uuid,
        ) -> Result<bool, $crate::sqlx::Error> {
            $crate::sqlx::query("UPDATE users SET updated_at = updated_at WHERE id = $1")
                .bind(user)
                .execute(&mut **tx)
                .await
                .map(|done| done.rows_affected() > 0)
        }

        /// Replace the account's recovery codes with these digests (none: drop them).
        async fn replace_recovery_codes_in(
            tx: &mut $crate::sqlx::Transaction<'_, $db>,
            user: uuid::Uuid,
            hashes: &[String],
        ) -> Result<(), $crate::sqlx::Error> {
            $crate::sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
                .bind(user)
                .execute(&mut **tx)
                .await?;
            for hash in hashes {
                $crate::sqlx::query("INSERT INTO recovery_codes (hash, user_id) VALUES ($1, $2)")
                    .bind(hash)
                    .bind(user)
                    .execute(&mut **tx)
                    .await?;
            }
            Ok(())
        }

        fn like_pattern(query: &str) -> String {
            let escaped = query.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            format!("%{escaped}%")
        }

        #[async_trait::async_trait]
        impl spontra_store::UserStore for $store {
            async fn create_user(&self, u: &spontra_store::NewUser) -> spontra_store::StoreResult<spontra_store::User> {
                let sql = format!(
                    "INSERT INTO users (id, email, password_hash, display_name, role, disabled, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, FALSE, $6, $6) RETURNING {USER_COLUMNS}"
                );
                let row = $crate::sqlx::query(&sql)
                    .bind(u.id.0)
                    .bind(u.email.as_str())
                    .bind(&u.password_hash)
                    .bind(&u.display_name)
                    .bind(u.role.as_str())
                    .bind(u.created_at)
                    .fetch_one(&self.writer)
                    .await
                    .map_err($crate::translate)?;
                user_from_row(&row).map_err($crate::translate)
            }

            async fn user_by_id(&self, id: spontra_store::UserId) -> spontra_store::StoreResult<spontra_store::User> {
                let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
                let row = $crate::sqlx::query(&sql).bind(id.0).fetch_one(&self.reader).await.map_err($crate::translate)?;
                user_from_row(&row).map_err($crate::translate)
            }

            async fn user_by_email(&self, email: &spontra_domain::Email) -> spontra_store::StoreResult<spontra_store::User> {
                let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
                let row = $crate::sqlx::query(&sql).bind(email.as_str()).fetch_one(&self.reader).await.map_err($crate::translate)?;
                user_from_row(&row).map_err($crate::translate)
            }

            async fn update_user(
                &self,
                id: spontra_store::UserId,
                u: &spontra_store::UserUpdate,
                at: chrono::DateTime<chrono::Utc>,
            ) -> spontra_store::StoreResult<spontra_store::User> {
                let sql = format!(
                    "UPDATE users SET display_name = COALESCE($2, display_name), password_hash = COALESCE($3, password_hash), \
                     role = COALESCE($4, role), disabled = COALESCE($5, disabled), \
                     email_verified_at = COALESCE($6, email_verified_at), updated_at = $7 \
                     WHERE id = $1 RETURNING {USER_COLUMNS}"
                );
                let row = $crate::sqlx::query(&sql)
                    .bind(id.0)
                    .bind(u.display_name.as_deref())
                    .bind(u.password_hash.as_deref())
                    .bind(u.role.map(|r| r.as_str()))
                    .bind(u.disabled)
                    .bind(u.email_verified_at)
                    .bind(at)
                    .fetch_one(&self.writer)
                    .await
                    .map_err($crate::translate)?;
                user_from_row(&row).map_err($crate::translate)
            }

            async fn search_users(&self, query: &str, limit: u32, offset: u32) -> spontra_store::StoreResult<Vec<spontra_store::User>> {
                let sql = format!(
                    "SELECT {USER_COLUMNS} FROM users \
                     WHERE lower(COALESCE(email, '')) LIKE $1 ESCAPE '\\' OR lower(display_name) LIKE $1 ESCAPE '\\' \
                     ORDER BY created_at DESC, id LIMIT $2 OFFSET $3"
                );
                let rows = $crate::sqlx::query(&sql)
                    .bind(like_pattern(query))
                    .bind(i64::from(limit))
                    .bind(i64::from(offset))
                    .fetch_all(&self.reader)
                    .await
                    .map_err($crate::translate)?;
                rows.iter().map(user_from_row).collect::<Result<_, _>>().map_err($crate::translate)
            }

            async fn anonymise_user(&self, id: spontra_store::UserId, at: chrono::DateTime<chrono::Utc>) -> spontra_store::StoreResult<()> {
                let mut tx = self.begin_write().await.map_err($crate::translate)?;
                let done = $crate::sqlx::query(
                    "UPDATE users SET email = NULL, display_name = '', password_hash = '', disabled = TRUE, \
                     totp_secret = NULL, totp_enabled_at = NULL, deleted_at = $2, updated_at = $2 WHERE id = $1",
                )
                .bind(id.0)
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err($crate::translate)?;
                if done.rows_affected() == 0 {
                    return Err(spontra_store::StoreError::NotFound);
                }
                for sql in [
                    "DELETE FROM preferences WHERE user_id = $1",
                    "DELETE FROM one_time_tokens WHERE user_id = $1",
                    "DELETE FROM recovery_codes WHERE user_id = $1",
                    "DELETE FROM refresh_tokens WHERE session_id IN (SELECT id FROM sessions WHERE user_id = $1)",
                    "DELETE FROM notifications WHERE user_id = $1",
                    "DELETE FROM alerts WHERE user_id = $1",
                    "DELETE FROM alert_quota WHERE user_id = $1",
                    "DELETE FROM webhooks WHERE user_id = $1",
                ] {
                    $crate::sqlx::query(sql).bind(id.0).execute(&mut *tx).await.map_err($crate::translate)?;
                }
                $crate::sqlx::query("UPDATE sessions SET revoked_at = COALESCE(revoked_at, $2), user_agent = '', ip = '' WHERE user_id = $1")
                    .bind(id.0)
                    .bind(at)
                    .execute(&mut *tx)
                    .await
                    .map_err($crate::translate)?;
                tx.commit().await.map_err($crate::translate)
            }

            async fn preferences(&self, id: spontra_store::UserId) -> spontra_store::StoreResult<Option<String>> {
                use $crate::sqlx::Row;
                let row = $crate::sqlx::query("SELECT document FROM preferences WHERE user_id = $1")
                    .bind(id.0)
                    .fetch_optional(&self.reader)
                    .await
                    .map_err($crate::translate)?;
                row.map(|r| r.try_get("document")).transpose().map_err($crate::translate)
            }

            async fn put_preferences(&self, id: spontra_store::UserId, json: &str, at: chrono::DateTime<chrono::Utc>) -> spontra_store::StoreResult<()> {
                $crate::sqlx::query(
                    "INSERT INTO preferences (user_id, document, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (user_id) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at",
                )
                .bind(id.0)
                .bind(json)
                .bind(at)
                .execute(&self.writer)
                .await
                .map_err($crate::translate)?;
                Ok(())
            }

            async fn record_consent(&self, c: &spontra_store::Consent) -> spontra_store::StoreResult<()> {
                $crate::sqlx::query("INSERT INTO consents (user_id, kind, granted, recorded_at) VALUES ($1, $2, $3, $4)")
                    .bind(c.user_id.0)
                    .bind(&c.kind)
                    .bind(c.granted)
                    .bind(c.recorded_at)
                    .execute(&self.writer)
                    .await
                    .map_err($crate::translate)?;
                Ok(())
            }

            async fn consents(&self, id: spontra_store::UserId) -> spontra_store::StoreResult<Vec<spontra_store::Consent>> {
                use $crate::sqlx::Row;
                let rows = $crate::sqlx::query("SELECT kind, granted, recorded_at FROM consents WHERE user_id = $1 ORDER BY recorded_at, seq")
                    .bind(id.0)
                    .fetch_all(&self.reader)
                    .await
                    .map_err($crate::translate)?;
                rows.iter()
                    .map(|r| {
                        Ok(spontra_store::Consent {
                            user_id: id,
                            kind: r.try_get("kind")?,
                            granted: r.try_get("granted")?,
                            recorded_at: r.try_get("recorded_at")?,
                        })
                    })
                    .collect::<Result<_, $crate::sqlx::Error>>()
                    .map_err($crate::translate)
            }

            async fn create_session(&self, s: &spontra_store::NewSession, max_live: u32) -> spontra_store::StoreResult<spontra_store::Session> {
                let mut tx = self.begin_write().await.map_err($crate::translate)?;
                // The account row first, so concurrent sign-ins of one account take turns and
                // the session cap below holds on PostgreSQL too.
                if !lock_account_in(&mut tx, s.user_id.0).await.map_err($crate::translate)? {
                    return Err(spontra_store::StoreError::NotFound);
                }
                let sql = format!(
                    "INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, idle_expires_at, user_agent, ip, mfa) \
                     VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $8) RETURNING {SESSION_COLUMNS}"
                );
                let row = $crate::sqlx::query(&sql)
                    .bind(s.id.0)
                    .bind(s.user_id.0)
                    .bind(s.created_at)
                    .bind(s.expires_at)
                    .bind(s.idle_expires_at)
                    .bind(&s.user_agent)
                    .bind(&s.ip)
                    .bind(s.mfa)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err($crate::translate)?;
                $crate::sqlx::query("INSERT INTO refresh_tokens (hash, session_id, issued_at) VALUES ($1, $2, $3)")
                    .bind(&s.refresh_hash)
                    .bind(s.id.0)
                    .bind(s.created_at)
                    .execute(&mut *tx)
                    .await
                    .map_err($crate::translate)?;
                // Keep the newest `max_live - 1` other live sessions; the oldest others end.
                let sql = format!(
                    "UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND id <> $3 AND {LIVE} \
                     AND id NOT IN (SELECT id FROM sessions WHERE user_id = $1 AND id <> $3 AND {LIVE} \
                     ORDER BY created_at DESC, id DESC LIMIT $4)"
                );
                $crate::sqlx::query(&sql)
                    .bind(s.user_id.0)
                    .bind(s.created_at)
                    .bind(s.id.0)
                    .bind(i64::from(max_live.saturating_sub(1)))
                    .execute(&mut *tx)
                    .await
                    .map_err($crate::translate)?;
                tx.commit().await.map_err($crate::translate)?;
                session_from_row(&row).map_err($crate::translate)
            }

            async fn session(&self, id: spontra_store::SessionId) -> spontra_store::StoreResult<spontra_store::Session> {
                let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1");
                let row = $crate::sqlx::query(&sql).bind(id.0).fetch_one(&self.reader).await.map_err($crate::translate)?;
                session_from_row(&row).map_err($crate::translate)
            }

            async fn live_sessions(&self, user: spontra_store::UserId, now: chrono::DateTime<chrono::Utc>) -> spontra_store::StoreResult<Vec<spontra_store::Session>> {
                let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE user_id = $1 AND {LIVE} ORDER BY created_at DESC, id");
                let rows = $crate::sqlx::query(&sql).bind(user.0).bind(now).fetch_all(&self.reader).await.map_err($crate::translate)?;
                rows.iter().map(session_from_row).collect::<Result<_, _>>().map_err($crate::translate)
            }

            async fn rotate_refresh(
                &self,
                presented: &str,
                replacement: &str,
                now: chrono::DateTime<chrono::Utc>,
                idle_expires_at: chrono::DateTime<chrono::Utc>,
            ) -> spontra_store::StoreResult<spontra_store::Rotation> {
                use $crate::sqlx::Row;
                let mut tx = self.begin_write().await.map_err($crate::translate)?;
                let found = $crate::sqlx::query(
                    "SELECT r.session_id, r.used_at, s.user_id, s.revoked_at, s.expires_at, \
                     COALESCE(s.idle_expires_at, s.expires_at) AS idle_expires_at \
                     FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id WHERE r.hash = $1",
                )
                .bind(presented)
                .fetch_optional(&mut *tx)
                .await
                .map_err($crate::translate)?;
                let Some(row) = found else {
                    return Ok(spontra_store::Rotation::Invalid);
                };
                let session: uuid::Uuid = row.try_get("session_id").map_err($crate::translate)?;
                let user: uuid::Uuid = row.try_get("user_id").map_err($crate::translate)?;
                let used: Option<chrono::DateTime<chrono::Utc>> = row.try_get("used_at").map_err($crate::translate)?;
                let revoked: Option<chrono::DateTime<chrono::Utc>> = row.try_get("revoked_at").map_err($crate::translate)?;
                let expires: chrono::DateTime<chrono::Utc> = row.try_get("expires_at").map_err($crate::translate)?;
                let idle: chrono::DateTime<chrono::Utc> = row.try_get("idle_expires_at").map_err($crate::translate)?;
                if used.is_some() {
                    revoke_in(&mut tx, session, now).await.map_err($crate::translate)?;
                    tx.commit().await.map_err($crate::translate)?;
                    return Ok(spontra_store::Rotation::ReuseDetected(spontra_store::UserId(user)));
                }
                if revoked.is_some() || expires <= now || idle <= now {
                    return Ok(spontra_store::Rotation::Invalid);
                }
                let marked = $crate::sqlx::query("UPDATE refresh_tokens SET used_at = $2 WHERE hash = $1 AND used_at IS NULL")
                    .bind(presented)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err($crate::translate)?;
                if marked.rows_affected() != 1 {
                    // Another request used it first: that is reuse too.
                    revoke_in(&mut tx, session, now).await.map_err($crate::translate)?;
                    tx.commit().await.map_err($crate::translate)?;
                    return Ok(spontra_store::Rotation::ReuseDetected(spontra_store::UserId(user)));
                }
                $crate::sqlx::query("INSERT INTO refresh_tokens (hash, session_id, issued_at) VALUES ($1, $2, $3)")
                    .bind(replacement)
                    .bind(session)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err($crate::translate)?;
                let sql = format!(
                    "UPDATE sessions SET last_used_at = $2, idle_expires_at = $3 WHERE id = $1 RETURNING {SESSION_COLUMNS}"
                );
                let row = $crate::sqlx::query(&sql)
                    .bind(session)
                    .bind(now)
                    .bind(idle_expires_at.min(expires))
                    .fetch_one(&mut *tx)
                    .await
                    .map_err($crate::translate)?;
                tx.commit().await.map_err($crate::translate)?;
                Ok(spontra_store::Rotation::Rotated(session_from_row(&row).map_err($crate::translate)?))
            }

            async fn mark_session_mfa(&self, id: spontra_store::SessionId) -> spontra_store::StoreResult<()> {
                $crate::sqlx::query("UPDATE sessions SET mfa = TRUE WHERE id = $1")
                    .bind(id.0)
                    .execute(&self.writer)
                    .await
                    .map_err($crate::translate)?;
                Ok(())
            }

            async fn revoke_session(&self, id: spontra_store::SessionId, at: chrono::DateTime<chrono::Utc>) -> spontra_store::StoreResult<()> {
                $crate::sqlx::query("UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                    .bind(id.0)
                    .bind(at)
                    .execute(&self.writer)
                    .await
                    .map_err($crate::translate)?;
                Ok(())
            }

            async fn revoke_sessions(
                &self,
                user: spontra_store::UserId,
                keep: Option<spontra_store::SessionId>,
                at: chrono::DateTime<chrono::Utc>,
            ) -> spontra_store::StoreResult<u64> {
                // The account row first, as `create_session` does, so writers of one
                // account's sessions lock in one order (no deadlock on PostgreSQL).
                let mut tx = self.begin_write().await.map_err($crate::translate)?;
                lock_account_in(&mut tx, user.0).await.map_err($crate::translate)?;
                let done = $crate::sqlx::query(
                    "UPDATE sessions SET revoked_at = $3 WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $3 \
                     AND ($2 IS NULL OR id <> $2)",
                )
                .bind(user.0)
                .bind(keep.map(|k| k.0))
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err($crate::translate)?;
                $crate::sqlx::query(
                    "UPDATE one_time_tokens SET used_at = $3 WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL",
                )
                .bind(user.0)
                .bind(spontra_store::TokenPurpose::SecondFactor.as_str())
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err($crate::translate)?;
                tx.commit().await.map_err($crate::translate)?;
                Ok(done.rows_affected())
            }

            async fn create_token(&self, t: &spontra_store::NewOneTimeToken) -> spontra_store::StoreResult<()> {
                $crate::sqlx::query(
                    "INSERT INTO one_time_tokens (hash, user_id, purpose, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&t.hash)
                .bind(t.user_id.0)
                .bind(t.purpose.as_str())
                .bind(t.created_at)
                .bind(t.expires_at)
                .execute(&self.writer)
                .await
                .map_err($crate::translate)?;
                Ok(())
            }

            async fn consume_token(
                &self,
                hash: &str,
                purpose: spontra_store::TokenPurpose,
                now: chrono::DateTime<chrono::Utc>,
            ) -> spontra_store::StoreResult<spontra_store::UserId> {
                use $crate::sqlx::Row;
                let mut tx = self.begin_write().await.map_err($crate::translate)?;
                let row = $crate::sqlx::query(
                    "UPDATE one_time_tokens SET used_at = $3 WHERE hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3 \
                     RETURNING user_id",
                )
                .bind(hash)
                .bind(purpose.as_str())
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .map_err($crate::translate)?;
                let user: uuid::Uuid = row.try_get("user_id").map_err($crate::translate)?;
                $crate::sqlx::query(
                    "UPDATE one_time_tokens SET used_at = $3 WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL",
                )
                .bind(user)
                .bind(purpose.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err($crate::translate)?;
                tx.commit().await.map_err($crate::translate)?;
                Ok(spontra_store::UserId(user))
            }

            async fn live_token(
                &self,
                hash: &str,
                purpose: spontra_store::TokenPurpose,
                now: chrono::DateTime<chrono::Utc>,
            ) -> spontra_store::StoreResult<spontra_store::UserId> {
                use $crate::sqlx::Row;
                let row = $crate::sqlx::query(
                    "SELECT user_id FROM one_time_tokens WHERE hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
                )
                .bind(hash)
                .bind(purpose.as_str())
                .bind(now)
                .fetch_one(&self.reader)
                .await
                .map_err($crate::translate)?;
                let user: uuid::Uuid = row.try_get("user_id").map_err($crate::translate)?;
                Ok(spontra_store::UserId(user))
            }

            async fn prune(&self, before: chrono::DateTime<chrono::Utc>) -> spontra_store::StoreResult<u64> {
                let mut tx = self.begin_write().await.map_err($crate::translate)?;
                let ended = "SELECT id FROM sessions WHERE expires_at <= $1 OR COALESCE(idle_expires_at, expires_at) <= $1 OR revoked_at <= $1";
                let mut gone = 0;
                // A session may end between these statements (a concurrent revocation): it
                // still has its refresh tokens, so it stays until the next prune rather than
                // break the foreign key.
                for sql in [
                    format!("DELETE FROM refresh_tokens WHERE session_id IN ({ended})"),
                    format!(
                        "DELETE FROM sessions WHERE id IN ({ended}) \
                         AND NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.session_id = sessions.id)"
                    ),
                    "DELETE FROM one_time_tokens WHERE expires_at <= $1 OR used_at <= $1".to_string(),
                ] {
                    let done = $crate::sqlx::query(&sql).bind(before).execute(&mut *tx).await.map_err($crate::translate)?;
                    gone += done.rows_affected();
                }
                tx.commit().await.map_err($crate::translate)?;
                Ok(gone)
            }

            async fn set_totp_secret(
                &self,
                user: spontra_store::UserId,
                secret: Option<&str>,
                at: chrono::DateTime<chrono::Utc>,
            ) -> spontra_store::StoreResult<()> {
                let mut tx = self.begin_write().await.map_err($crate::translate)?;
                let done = $crate::sqlx::query(
                    "UPDATE users SET totp_secret = $2, totp_enabled_at = NULL, totp_last_step = NULL, updated_at = $3 WHERE id = $1",
                )
                .bind(user.0)
                .bind(secret)
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err($crate::translate)?;
                if done.rows_affected() == 0 {
                    return Err(spontra_store::StoreError::NotFound);
                }
                replace_recovery_codes_in(&mut tx, user.0, &[]).await.map_err($crate::translate)?;
                tx.commit().await.map_err($crate::translate)
            }

            async fn enable_totp(
                &self,
                user: spontra_store::UserId,
                recovery_hashes: &[String],
                at: chrono::DateTime<chrono::Utc>,
            ) -> spontra_store::StoreResult<()> {
                let mut tx = self.begin_write().await.map_err($crate::translate)?;
                let done = $crate::sqlx::query(
                    "UPDATE users SET totp_enabled_at = $2, updated_at = $2 WHERE id = $1 AND totp_secret IS NOT NULL",
                )
                .bind(user.0)
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err($crate::translate)?;
                if done.rows_affected() == 0 {
                    return Err(spontra_store::StoreError::NotFound);
                }
                replace_recovery_codes_in(&mut tx, user.0, recovery_hashes).await.map_err($crate::translate)?;
                tx.commit().await.map_err($crate::translate)
            }

            async fn use_totp_step(&self, user: spontra_store::UserId, step: i64) -> spontra_store::StoreResult<bool> {
                let done = $crate::sqlx::query(
                    "UPDATE users SET totp_last_step = $2 WHERE id = $1 AND totp_enabled_at IS NOT NULL \
                     AND (totp_last_step IS NULL OR totp_last_step < $2)",
                )
                .bind(user.0)
                .bind(step)
                .execute(&self.writer)
                .await
                .map_err($crate::translate)?;
                Ok(done.rows_affected() == 1)
            }

            async fn use_recovery_code(
                &self,
                user: spontra_store::UserId,
                hash: &str,
                at: chrono::DateTime<chrono::Utc>,
            ) -> spontra_store::StoreResult<bool> {
                let done = $crate::sqlx::query(
                    "UPDATE recovery_codes SET used_at = $3 WHERE hash = $2 AND user_id = $1 AND used_at IS NULL",
                )
                .bind(user.0)
                .bind(hash)
                .bind(at)
                .execute(&self.writer)
                .await
                .map_err($crate::translate)?;
                Ok(done.rows_affected() == 1)
            }

            async fn recovery_codes_left(&self, user: spontra_store::UserId) -> spontra_store::StoreResult<u32> {
                use $crate::sqlx::Row;
                let row = $crate::sqlx::query("SELECT COUNT(*) AS n FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL")
                    .bind(user.0)
                    .fetch_one(&self.reader)
                    .await
                    .map_err($crate::translate)?;
                let n: i64 = row.try_get("n").map_err($crate::translate)?;
                Ok(u32::try_from(n).unwrap_or(u32::MAX))
            }
        }
    };
}

/// Implement `spontra_store::InventoryStore` for `$store` (as [`impl_user_store!`]).
#[macro_export]
macro_rules! impl_inventory_store {
    ($store:ty, $db:ty) => {
        /// Record the event (source, id) as applied now: false when it was applied before.
        async fn first_application(
            conn: &mut <$db as $crate::sqlx::Database>::Connection,
            source: &str,
            event_id: &str,
            now: chrono::DateTime<chrono::Utc>,
        ) -> Result<bool, $crate::sqlx::Error> {
            Ok($crate::sqlx::query(
                "INSERT INTO ingested_events (source, event_id, applied_at) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING RETURNING event_id",
            )
            .bind(source)
            .bind(event_id)
            .bind(now)
            .fetch_optional(&mut *conn)
            .await?
            .is_some())
        }

        const SCHEDULE_COLUMNS: &str = "carrier, flight_number, departure_date, origin, destination, kind, \
            departure_at, arrival_at, previous_departure_at, fare_minor, currency, seats_left, observed_at, source, event_id";

        fn schedule_from_row(
            row: &<$db as $crate::sqlx::Database>::Row,
        ) -> Result<spontra_store::ScheduleObservation, $crate::sqlx::Error> {
            use $crate::sqlx::Row;
            let kind: String = row.try_get("kind")?;
            Ok(spontra_store::ScheduleObservation {
                source: row.try_get("source")?,
                event_id: row.try_get("event_id")?,
                carrier: row.try_get("carrier")?,
                flight_number: row.try_get::<i32, _>("flight_number")? as u16,
                departure_date: row.try_get("departure_date")?,
                origin: row.try_get("origin")?,
                destination: row.try_get("destination")?,
                kind: spontra_store::ScheduleKind::parse(&kind).ok_or_else(|| {
                    $crate::sqlx::Error::Decode(format!("schedule change kind {kind:?}").into())
                })?,
                departure_at: row.try_get("departure_at")?,
                arrival_at: row.try_get("arrival_at")?,
                previous_departure_at: row.try_get("previous_departure_at")?,
                fare_minor: row.try_get("fare_minor")?,
                currency: row.try_get("currency")?,
                seats_left: row.try_get("seats_left")?,
                observed_at: row.try_get("observed_at")?,
            })
        }

        #[async_trait::async_trait]
        impl spontra_store::InventoryStore for $store {
            async fn apply_schedule_changes(
                &self,
                batch: &[spontra_store::ScheduleObservation],
                now: chrono::DateTime<chrono::Utc>,
            ) -> spontra_store::StoreResult<Vec<spontra_store::Applied>> {
                let tr = $crate::translate;
                let mut tx = self.begin_write().await.map_err(tr)?;
                let mut out = Vec::with_capacity(batch.len());
                for c in batch {
                    let new = first_application(&mut *tx, &c.source, &c.event_id, now)
                        .await
                        .map_err(tr)?;
                    if new {
                        $crate::sqlx::query(&format!(
                            "INSERT INTO schedule_changes ({SCHEDULE_COLUMNS}) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
                        ))
                        .bind(&c.carrier)
                        .bind(c.flight_number as i32)
                        .bind(c.departure_date)
                        .bind(&c.origin)
                        .bind(&c.destination)
                        .bind(c.kind.as_str())
                        .bind(c.departure_at)
                        .bind(c.arrival_at)
                        .bind(c.previous_departure_at)
                        .bind(c.fare_minor)
                        .bind(&c.currency)
                        .bind(c.seats_left)
                        .bind(c.observed_at)
                        .bind(&c.source)
                        .bind(&c.event_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(tr)?;
                    }
                    out.push(spontra_store::Applied { new, changed: new });
                }
                tx.commit().await.map_err(tr)?;
                Ok(out)
            }

            async fn schedule_history(
                &self,
                carrier: &str,
                flight_number: u16,
                departure_date: chrono::NaiveDate,
            ) -> spontra_store::StoreResult<Vec<spontra_store::ScheduleObservation>> {
                let rows = $crate::sqlx::query(&format!(
                    "SELECT {SCHEDULE_COLUMNS} FROM schedule_changes \
                     WHERE carrier = $1 AND flight_number = $2 AND departure_date = $3 ORDER BY observed_at, id"
                ))
                .bind(carrier)
                .bind(flight_number as i32)
                .bind(departure_date)
                .fetch_all(&self.reader)
                .await
                .map_err($crate::translate)?;
                rows.iter()
                    .map(|r| schedule_from_row(r).map_err($crate::translate))
                    .collect()
            }

            async fn apply_observations(
                &self,
                batch: &[spontra_store::FareObservation],
                now: chrono::DateTime<chrono::Utc>,
            ) -> spontra_store::StoreResult<Vec<spontra_store::Applied>> {
                use $crate::sqlx::Row;
                use std::collections::{HashMap, HashSet};
                type Db = $db;
                let tr = $crate::translate;
                let mut tx = self.begin_write().await.map_err(tr)?;
                let mut out = Vec::with_capacity(batch.len());
                // A few statements per chunk, not per observation: each takes its rows at once.
                for chunk in batch.chunks(500) {
                    // Once per (source, id): the ids already held come back from nowhere.
                    let mut ids = $crate::sqlx::QueryBuilder::<Db>::new(
                        "INSERT INTO ingested_events (source, event_id, applied_at) ",
                    );
                    ids.push_values(chunk, |mut b, o| {
                        b.push_bind(&o.source).push_bind(&o.event_id).push_bind(now);
                    });
                    ids.push(" ON CONFLICT DO NOTHING RETURNING source, event_id");
                    let mut first: HashSet<(String, String)> = HashSet::new();
                    for row in ids.build().fetch_all(&mut *tx).await.map_err(tr)? {
                        first.insert((row.try_get(0).map_err(tr)?, row.try_get(1).map_err(tr)?));
                    }
                    // The first of a chunk's copies of an event is the one applied.
                    let new: Vec<bool> = chunk
                        .iter()
                        .map(|o| first.remove(&(o.source.clone(), o.event_id.clone())))
                        .collect();
                    let fresh: Vec<&spontra_store::FareObservation> = chunk
                        .iter()
                        .zip(&new)
                        .filter_map(|(o, n)| n.then_some(o))
                        .collect();
                    if fresh.is_empty() {
                        out.extend(new.iter().map(|_| spontra_store::Applied { new: false, changed: false }));
                        continue;
                    }
                    let mut history = $crate::sqlx::QueryBuilder::<Db>::new(
                        "INSERT INTO price_observations (origin, destination, departure_date, cabin, carrier, \
                         flight_number, fare_minor, currency, seats_left, days_before, observed_at, source, event_id) ",
                    );
                    history.push_values(&fresh, |mut b, o| {
                        b.push_bind(&o.origin)
                            .push_bind(&o.destination)
                            .push_bind(o.departure_date)
                            .push_bind(&o.cabin)
                            .push_bind(&o.carrier)
                            .push_bind(o.flight_number as i32)
                            .push_bind(o.fare_minor)
                            .push_bind(&o.currency)
                            .push_bind(o.seats_left)
                            .push_bind(o.days_before() as i32)
                            .push_bind(o.observed_at)
                            .push_bind(&o.source)
                            .push_bind(&o.event_id);
                    });
                    history.build().execute(&mut *tx).await.map_err(tr)?;
                    // Each flight's current state, then the observations in order: one newer
                    // than the state becomes it (and changed it if it differs).
                    type Key = (String, i32, chrono::NaiveDate, String);
                    type State = (i64, String, i32, chrono::DateTime<chrono::Utc>);
                    let key = |o: &spontra_store::FareObservation| -> Key {
                        (o.carrier.clone(), o.flight_number as i32, o.departure_date, o.cabin.clone())
                    };
                    let mut keys: Vec<Key> = fresh.iter().map(|o| key(o)).collect();
                    keys.sort();
                    keys.dedup();
                    // A join on the keys, so each is one look-up of the primary key (SQLite
                    // before 3.45 scans the whole table for a row-value IN list).
                    let mut held = $crate::sqlx::QueryBuilder::<Db>::new("WITH k (c, f, d, b) AS (");
                    held.push_values(&keys, |mut b, k| {
                        b.push_bind(&k.0).push_bind(k.1).push_bind(k.2).push_bind(&k.3);
                    });
                    held.push(
                        ") SELECT carrier, flight_number, departure_date, cabin, fare_minor, currency, seats_left, observed_at \
                         FROM k JOIN flight_fares ON carrier = k.c AND flight_number = k.f AND departure_date = k.d AND cabin = k.b",
                    );
                    let mut states: HashMap<Key, State> = HashMap::new();
                    for row in held.build().fetch_all(&mut *tx).await.map_err(tr)? {
                        states.insert(
                            (
                                row.try_get(0).map_err(tr)?,
                                row.try_get(1).map_err(tr)?,
                                row.try_get(2).map_err(tr)?,
                                row.try_get(3).map_err(tr)?,
                            ),
                            (
                                row.try_get(4).map_err(tr)?,
                                row.try_get(5).map_err(tr)?,
                                row.try_get(6).map_err(tr)?,
                                row.try_get(7).map_err(tr)?,
                            ),
                        );
                    }
                    let mut latest: HashMap<Key, &spontra_store::FareObservation> = HashMap::new();
                    for (o, is_new) in chunk.iter().zip(&new) {
                        if !is_new {
                            out.push(spontra_store::Applied { new: false, changed: false });
                            continue;
                        }
                        let k = key(o);
                        let now_held = states.get(&k);
                        let newer = now_held.is_none_or(|s| s.3 < o.observed_at);
                        let differs = now_held.is_none_or(|s| {
                            (s.0, s.1.as_str(), s.2) != (o.fare_minor, o.currency.as_str(), o.seats_left)
                        });
                        if newer {
                            states.insert(k.clone(), (o.fare_minor, o.currency.clone(), o.seats_left, o.observed_at));
                            latest.insert(k, o);
                        }
                        out.push(spontra_store::Applied { new: true, changed: newer && differs });
                    }
                    if latest.is_empty() {
                        continue;
                    }
                    // The flights' new states, each once; one newer in the store by now stays.
                    let mut upsert = $crate::sqlx::QueryBuilder::<Db>::new(
                        "INSERT INTO flight_fares (carrier, flight_number, departure_date, cabin, origin, destination, \
                         fare_minor, currency, seats_left, departure_at, observed_at) ",
                    );
                    upsert.push_values(latest.values(), |mut b, o| {
                        b.push_bind(&o.carrier)
                            .push_bind(o.flight_number as i32)
                            .push_bind(o.departure_date)
                            .push_bind(&o.cabin)
                            .push_bind(&o.origin)
                            .push_bind(&o.destination)
                            .push_bind(o.fare_minor)
                            .push_bind(&o.currency)
                            .push_bind(o.seats_left)
                            .push_bind(o.departure_at)
                            .push_bind(o.observed_at);
                    });
                    upsert.push(
                        " ON CONFLICT (carrier, flight_number, departure_date, cabin) DO UPDATE SET \
                         fare_minor = excluded.fare_minor, currency = excluded.currency, \
                         seats_left = excluded.seats_left, departure_at = excluded.departure_at, \
                         observed_at = excluded.observed_at \
                         WHERE flight_fares.observed_at < excluded.observed_at",
                    );
                    upsert.build().execute(&mut *tx).await.map_err(tr)?;
                }
                tx.commit().await.map_err(tr)?;
                Ok(out)
            }

            async fn current_fare(
                &self,
                carrier: &str,
                flight_number: u16,
                departure_date: chrono::NaiveDate,
                cabin: &str,
            ) -> spontra_store::StoreResult<Option<spontra_store::CurrentFare>> {
                use $crate::sqlx::Row;
                let tr = $crate::translate;
                let row = $crate::sqlx::query(
                    "SELECT fare_minor, currency, seats_left, observed_at FROM flight_fares \
                     WHERE carrier = $1 AND flight_number = $2 AND departure_date = $3 AND cabin = $4",
                )
                .bind(carrier)
                .bind(flight_number as i32)
                .bind(departure_date)
                .bind(cabin)
                .fetch_optional(&self.reader)
                .await
                .map_err(tr)?;
                row.map(|r| {
                    Ok(spontra_store::CurrentFare {
                        fare_minor: r.try_get(0).map_err(tr)?,
                        currency: r.try_get(1).map_err(tr)?,
                        seats_left: r.try_get(2).map_err(tr)?,
                        observed_at: r.try_get(3).map_err(tr)?,
                    })
                })
                .transpose()
            }

            async fn observation_count(&self) -> spontra_store::StoreResult<u64> {
                use $crate::sqlx::Row;
                let row = $crate::sqlx::query("SELECT COUNT(*) FROM price_observations")
                    .fetch_one(&self.reader)
                    .await
                    .map_err($crate::translate)?;
                Ok(row.try_get::<i64, _>(0).map_err($crate::translate)? as u64)
            }

            async fn was_applied(&self, source: &str, event_id: &str) -> spontra_store::StoreResult<bool> {
                Ok($crate::sqlx::query("SELECT 1 FROM ingested_events WHERE source = $1 AND event_id = $2")
                    .bind(source)
                    .bind(event_id)
                    .fetch_optional(&self.reader)
                    .await
                    .map_err($crate::translate)?
                    .is_some())
            }
        }
    };
}

/// Implement `spontra_store::PriceStore` for `$store` (as [`impl_user_store!`]). The backend
/// also provides `prune_observations(&self, now, before) -> Result<u64, sqlx::Error>`: how
/// raw observations are retired (rows on SQLite, monthly partitions on PostgreSQL).
#[macro_export]
macro_rules! impl_price_store {
    ($store:ty, $db:ty) => {
        fn daily_from_row(
            row: &<$db as $crate::sqlx::Database>::Row,
        ) -> Result<spontra_store::DailyPrice, $crate::sqlx::Error> {
            use $crate::sqlx::Row;
            Ok(spontra_store::DailyPrice {
                departure_date: row.try_get("departure_date")?,
                day: row.try_get("day")?,
                low_minor: row.try_get("low_minor")?,
                high_minor: row.try_get("high_minor")?,
                close_minor: row.try_get("close_minor")?,
                close_at: row.try_get("close_at")?,
            })
        }

        #[async_trait::async_trait]
        impl spontra_store::PriceStore for $store {
            async fn record_prices(
                &self,
                batch: &[spontra_store::FlightPrice],
            ) -> spontra_store::StoreResult<Vec<(spontra_store::RouteCabin, spontra_store::RoutePrice)>> {
                use $crate::sqlx::Row;
                use std::collections::BTreeMap;
                type Db = $db;
                type Flight<'a> = (&'a spontra_store::RouteCabin, chrono::NaiveDate, &'a str, u16);
                type Key<'a> = (&'a spontra_store::RouteCabin, chrono::NaiveDate);
                let tr = $crate::translate;
                // Day by day (UTC) of observation, so a batch spanning days leaves each its
                // roll-up; within a day each flight once (its newest observation): one
                // statement may not update a row twice. Sorted, so concurrent writers lock
                // in one order.
                let mut by_day: BTreeMap<chrono::NaiveDate, BTreeMap<Flight, &spontra_store::FlightPrice>> =
                    BTreeMap::new();
                let mut all_keys: BTreeMap<Key, chrono::DateTime<chrono::Utc>> = BTreeMap::new();
                for p in batch {
                    let newest = by_day.entry(p.observed_at.date_naive()).or_default();
                    let k = (&p.route, p.departure_date, p.carrier.as_str(), p.flight_number);
                    if newest.get(&k).is_none_or(|held| held.observed_at < p.observed_at) {
                        newest.insert(k, p);
                    }
                    let at = all_keys.entry((&p.route, p.departure_date)).or_insert(p.observed_at);
                    *at = (*at).max(p.observed_at);
                }
                let mut out = Vec::new();
                let mut tx = self.begin_write().await.map_err(tr)?;
                // The routes first, all of them in order: their rows are the lock that orders
                // writers of one route (its lowest price is read after every flight of it is
                // written).
                let all_keys: Vec<_> = all_keys.into_iter().collect();
                for keys in all_keys.chunks(1000) {
                    let mut lock = $crate::sqlx::QueryBuilder::<Db>::new(
                        "INSERT INTO pricing_routes (origin, destination, departure_date, cabin, lowest_minor, observed_at) ",
                    );
                    lock.push_values(keys, |mut b, ((r, d), at)| {
                        b.push_bind(&r.origin)
                            .push_bind(&r.destination)
                            .push_bind(*d)
                            .push_bind(&r.cabin)
                            .push_bind(None::<i64>)
                            .push_bind(*at);
                    });
                    lock.push(
                        " ON CONFLICT (origin, destination, cabin, departure_date) \
                         DO UPDATE SET observed_at = pricing_routes.observed_at",
                    );
                    lock.build().execute(&mut *tx).await.map_err(tr)?;
                }
                let flights: Vec<Vec<&spontra_store::FlightPrice>> =
                    by_day.into_values().map(|d| d.into_values().collect()).collect();
                for chunk in flights.iter().flat_map(|day| day.chunks(1000)) {
                    let keys: std::collections::BTreeSet<Key> =
                        chunk.iter().map(|p| (&p.route, p.departure_date)).collect();
                    let mut upsert = $crate::sqlx::QueryBuilder::<Db>::new(
                        "INSERT INTO pricing_flights (origin, destination, departure_date, cabin, carrier, \
                         flight_number, fare_minor, seats_left, observed_at) ",
                    );
                    upsert.push_values(chunk, |mut b, p| {
                        b.push_bind(&p.route.origin)
                            .push_bind(&p.route.destination)
                            .push_bind(p.departure_date)
                            .push_bind(&p.route.cabin)
                            .push_bind(&p.carrier)
                            .push_bind(p.flight_number as i32)
                            .push_bind(p.fare_minor)
                            .push_bind(p.seats_left)
                            .push_bind(p.observed_at);
                    });
                    upsert.push(
                        " ON CONFLICT (origin, destination, departure_date, cabin, carrier, flight_number) \
                         DO UPDATE SET fare_minor = excluded.fare_minor, seats_left = excluded.seats_left, \
                         observed_at = excluded.observed_at WHERE pricing_flights.observed_at < excluded.observed_at",
                    );
                    upsert.build().execute(&mut *tx).await.map_err(tr)?;

                    // Each touched route-date's lowest fare with seats, and its newest
                    // observation (the day the roll-up is for).
                    let mut lowest = $crate::sqlx::QueryBuilder::<Db>::new("WITH k (o, d, dd, c) AS (");
                    lowest.push_values(keys.iter(), |mut b, (r, d)| {
                        b.push_bind(&r.origin)
                            .push_bind(&r.destination)
                            .push_bind(*d)
                            .push_bind(&r.cabin);
                    });
                    lowest.push(
                        ") SELECT f.origin, f.destination, f.departure_date, f.cabin, \
                         MIN(CASE WHEN f.seats_left > 0 THEN f.fare_minor END) AS lowest, MAX(f.observed_at) AS at \
                         FROM k JOIN pricing_flights f ON f.origin = k.o AND f.destination = k.d \
                         AND f.departure_date = k.dd AND f.cabin = k.c \
                         GROUP BY f.origin, f.destination, f.departure_date, f.cabin",
                    );
                    let mut now_held = Vec::with_capacity(keys.len());
                    for row in lowest.build().fetch_all(&mut *tx).await.map_err(tr)? {
                        let route = spontra_store::RouteCabin {
                            origin: row.try_get(0).map_err(tr)?,
                            destination: row.try_get(1).map_err(tr)?,
                            cabin: row.try_get(3).map_err(tr)?,
                        };
                        now_held.push((
                            route,
                            spontra_store::RoutePrice {
                                departure_date: row.try_get(2).map_err(tr)?,
                                lowest_minor: row.try_get(4).map_err(tr)?,
                                observed_at: row.try_get(5).map_err(tr)?,
                            },
                        ));
                    }
                    if now_held.is_empty() {
                        continue;
                    }
                    let mut routes = $crate::sqlx::QueryBuilder::<Db>::new(
                        "INSERT INTO pricing_routes (origin, destination, departure_date, cabin, lowest_minor, observed_at) ",
                    );
                    routes.push_values(&now_held, |mut b, (r, p)| {
                        b.push_bind(&r.origin)
                            .push_bind(&r.destination)
                            .push_bind(p.departure_date)
                            .push_bind(&r.cabin)
                            .push_bind(p.lowest_minor)
                            .push_bind(p.observed_at);
                    });
                    routes.push(
                        " ON CONFLICT (origin, destination, cabin, departure_date) \
                         DO UPDATE SET lowest_minor = excluded.lowest_minor, observed_at = excluded.observed_at",
                    );
                    routes.build().execute(&mut *tx).await.map_err(tr)?;

                    let on_sale: Vec<_> = now_held
                        .iter()
                        .filter_map(|(r, p)| p.lowest_minor.map(|l| (r, p, l)))
                        .collect();
                    if !on_sale.is_empty() {
                        let mut daily = $crate::sqlx::QueryBuilder::<Db>::new(
                            "INSERT INTO pricing_daily (origin, destination, departure_date, cabin, day, \
                             low_minor, high_minor, close_minor, close_at) ",
                        );
                        daily.push_values(&on_sale, |mut b, (r, p, lowest)| {
                            b.push_bind(&r.origin)
                                .push_bind(&r.destination)
                                .push_bind(p.departure_date)
                                .push_bind(&r.cabin)
                                .push_bind(p.observed_at.date_naive())
                                .push_bind(*lowest)
                                .push_bind(*lowest)
                                .push_bind(*lowest)
                                .push_bind(p.observed_at);
                        });
                        daily.push(
                            " ON CONFLICT (origin, destination, cabin, departure_date, day) DO UPDATE SET \
                             low_minor = CASE WHEN excluded.low_minor < pricing_daily.low_minor \
                                 THEN excluded.low_minor ELSE pricing_daily.low_minor END, \
                             high_minor = CASE WHEN excluded.high_minor > pricing_daily.high_minor \
                                 THEN excluded.high_minor ELSE pricing_daily.high_minor END, \
                             close_minor = CASE WHEN excluded.close_at >= pricing_daily.close_at \
                                 THEN excluded.close_minor ELSE pricing_daily.close_minor END, \
                             close_at = CASE WHEN excluded.close_at >= pricing_daily.close_at \
                                 THEN excluded.close_at ELSE pricing_daily.close_at END",
                        );
                        daily.build().execute(&mut *tx).await.map_err(tr)?;
                    }
                    out.extend(now_held);
                }
                tx.commit().await.map_err(tr)?;
                Ok(out)
            }

            async fn daily_prices(
                &self,
                route: &spontra_store::RouteCabin,
                departures: (chrono::NaiveDate, chrono::NaiveDate),
                days: (chrono::NaiveDate, chrono::NaiveDate),
            ) -> spontra_store::StoreResult<Vec<spontra_store::DailyPrice>> {
                let rows = $crate::sqlx::query(
                    "SELECT departure_date, day, low_minor, high_minor, close_minor, close_at FROM pricing_daily \
                     WHERE origin = $1 AND destination = $2 AND cabin = $3 \
                     AND departure_date >= $4 AND departure_date <= $5 AND day >= $6 AND day <= $7 \
                     ORDER BY departure_date, day",
                )
                .bind(&route.origin)
                .bind(&route.destination)
                .bind(&route.cabin)
                .bind(departures.0)
                .bind(departures.1)
                .bind(days.0)
                .bind(days.1)
                .fetch_all(&self.reader)
                .await
                .map_err($crate::translate)?;
                rows.iter()
                    .map(|r| daily_from_row(r).map_err($crate::translate))
                    .collect()
            }

            async fn record_searches(&self, batch: &spontra_store::SearchBatch) -> spontra_store::StoreResult<bool> {
                let tr = $crate::translate;
                let mut tx = self.begin_write().await.map_err(tr)?;
                let first = $crate::sqlx::query(
                    "INSERT INTO search_batches (id, applied_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
                )
                .bind(&batch.id)
                .bind(batch.at)
                .execute(&mut *tx)
                .await
                .map_err(tr)?;
                if first.rows_affected() == 0 {
                    return Ok(false);
                }
                for c in &batch.counts {
                    $crate::sqlx::query(
                        "INSERT INTO search_counts (day, origin, destination, searches) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (day, origin, destination) DO UPDATE SET searches = search_counts.searches + excluded.searches",
                    )
                    .bind(batch.day)
                    .bind(&c.origin)
                    .bind(c.destination.as_deref().unwrap_or("*"))
                    .bind(c.searches)
                    .execute(&mut *tx)
                    .await
                    .map_err(tr)?;
                }
                tx.commit().await.map_err(tr)?;
                Ok(true)
            }

            async fn popular_routes(
                &self,
                since: chrono::NaiveDate,
                origin: Option<&str>,
                limit: u32,
            ) -> spontra_store::StoreResult<Vec<spontra_store::SearchCount>> {
                use $crate::sqlx::Row;
                let tr = $crate::translate;
                let rows = $crate::sqlx::query(
                    "SELECT origin, destination, CAST(SUM(searches) AS BIGINT) AS n FROM search_counts \
                     WHERE day >= $1 AND ($2 IS NULL OR origin = $2) GROUP BY origin, destination \
                     ORDER BY n DESC, origin, destination LIMIT $3",
                )
                .bind(since)
                .bind(origin)
                .bind(i64::from(limit))
                .fetch_all(&self.reader)
                .await
                .map_err(tr)?;
                rows.iter()
                    .map(|r| {
                        let destination: String = r.try_get(1).map_err(tr)?;
                        Ok(spontra_store::SearchCount {
                            origin: r.try_get(0).map_err(tr)?,
                            destination: (destination != "*").then_some(destination),
                            searches: r.try_get(2).map_err(tr)?,
                        })
                    })
                    .collect()
            }

            async fn flight_prices(
                &self,
                route: &spontra_store::RouteCabin,
                departure: chrono::NaiveDate,
            ) -> spontra_store::StoreResult<Vec<spontra_store::FlightPrice>> {
                use $crate::sqlx::Row;
                let tr = $crate::translate;
                let rows = $crate::sqlx::query(
                    "SELECT carrier, flight_number, fare_minor, seats_left, observed_at FROM pricing_flights \
                     WHERE origin = $1 AND destination = $2 AND cabin = $3 AND departure_date = $4 \
                     ORDER BY fare_minor, carrier, flight_number",
                )
                .bind(&route.origin)
                .bind(&route.destination)
                .bind(&route.cabin)
                .bind(departure)
                .fetch_all(&self.reader)
                .await
                .map_err(tr)?;
                rows.iter()
                    .map(|r| {
                        let number: i32 = r.try_get(1).map_err(tr)?;
                        Ok(spontra_store::FlightPrice {
                            route: route.clone(),
                            departure_date: departure,
                            carrier: r.try_get(0).map_err(tr)?,
                            flight_number: u16::try_from(number).unwrap_or_default(),
                            fare_minor: r.try_get(2).map_err(tr)?,
                            seats_left: r.try_get(3).map_err(tr)?,
                            observed_at: r.try_get(4).map_err(tr)?,
                        })
                    })
                    .collect()
            }

            async fn route_prices(
                &self,
                route: &spontra_store::RouteCabin,
                departures: (chrono::NaiveDate, chrono::NaiveDate),
            ) -> spontra_store::StoreResult<Vec<spontra_store::RoutePrice>> {
                use $crate::sqlx::Row;
                let tr = $crate::translate;
                let rows = $crate::sqlx::query(
                    "SELECT departure_date, lowest_minor, observed_at FROM pricing_routes \
                     WHERE origin = $1 AND destination = $2 AND cabin = $3 \
                     AND departure_date >= $4 AND departure_date <= $5 ORDER BY departure_date",
                )
                .bind(&route.origin)
                .bind(&route.destination)
                .bind(&route.cabin)
                .bind(departures.0)
                .bind(departures.1)
                .fetch_all(&self.reader)
                .await
                .map_err(tr)?;
                rows.iter()
                    .map(|r| {
                        Ok(spontra_store::RoutePrice {
                            departure_date: r.try_get(0).map_err(tr)?,
                            lowest_minor: r.try_get(1).map_err(tr)?,
                            observed_at: r.try_get(2).map_err(tr)?,
                        })
                    })
                    .collect()
            }

            async fn airport_prices(
                &self,
                airport: &str,
                cabin: &str,
                departures: (chrono::NaiveDate, chrono::NaiveDate),
                outbound: bool,
            ) -> spontra_store::StoreResult<Vec<(String, spontra_store::RoutePrice)>> {
                use $crate::sqlx::Row;
                let tr = $crate::translate;
                let (this, other) = if outbound { ("origin", "destination") } else { ("destination", "origin") };
                let rows = $crate::sqlx::query(&format!(
                    "SELECT {other}, departure_date, lowest_minor, observed_at FROM pricing_routes \
                     WHERE {this} = $1 AND cabin = $2 AND departure_date >= $3 AND departure_date <= $4 \
                     AND lowest_minor IS NOT NULL ORDER BY {other}, departure_date"
                ))
                .bind(airport)
                .bind(cabin)
                .bind(departures.0)
                .bind(departures.1)
                .fetch_all(&self.reader)
                .await
                .map_err(tr)?;
                rows.iter()
                    .map(|r| {
                        Ok((
                            r.try_get(0).map_err(tr)?,
                            spontra_store::RoutePrice {
                                departure_date: r.try_get(1).map_err(tr)?,
                                lowest_minor: r.try_get(2).map_err(tr)?,
                                observed_at: r.try_get(3).map_err(tr)?,
                            },
                        ))
                    })
                    .collect()
            }

            async fn prune_prices(
                &self,
                now: chrono::DateTime<chrono::Utc>,
                observations_before: chrono::DateTime<chrono::Utc>,
                daily_before: chrono::NaiveDate,
                departed_before: chrono::NaiveDate,
            ) -> spontra_store::StoreResult<spontra_store::Pruned> {
                let tr = $crate::translate;
                let observations = self.prune_observations(now, observations_before).await.map_err(tr)?;
                // In short transactions, so ingestion and pricing never wait long for them.
                let mut pruned = [0u64; 3];
                for (n, (table, before)) in [
                    ("pricing_daily", daily_before),
                    ("pricing_flights", departed_before),
                    ("pricing_routes", departed_before),
                ]
                .into_iter()
                .enumerate()
                {
                    loop {
                        let mut tx = self.begin_write().await.map_err(tr)?;
                        let gone = $crate::sqlx::query(&format!(
                            "DELETE FROM {table} WHERE departure_date IN \
                             (SELECT DISTINCT departure_date FROM {table} WHERE departure_date < $1 \
                              ORDER BY departure_date LIMIT 1)"
                        ))
                        .bind(before)
                        .execute(&mut *tx)
                        .await
                        .map_err(tr)?
                        .rows_affected();
                        tx.commit().await.map_err(tr)?;
                        pruned[n] += gone;
                        if gone == 0 {
                            break;
                        }
                    }
                }
                Ok(spontra_store::Pruned {
                    observations,
                    daily: pruned[0],
                    departed: pruned[1] + pruned[2],
                })
            }
        }
    };
}
