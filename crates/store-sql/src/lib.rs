//! The store traits implemented once in portable SQL (numbered `$n` parameters, `RETURNING`,
//! `lower(..) LIKE`), instantiated for SQLite and PostgreSQL by [`impl_user_store!`]. Each
//! backend crate keeps its own connection setup and migrations (the column types differ); the
//! statements do not, so they are written once here rather than twice.

pub use sqlx;

/// Translate a driver error at the store boundary.
pub fn translate(e: sqlx::Error) -> spontra_store_error::StoreError {
    match e {
        sqlx::Error::RowNotFound => spontra_store_error::StoreError::NotFound,
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            spontra_store_error::StoreError::Conflict(
                db.constraint().unwrap_or("unique").to_string(),
            )
        }
        other => spontra_store_error::StoreError::Backend(other.to_string()),
    }
}

#[doc(hidden)]
pub mod spontra_store_error {
    pub use spontra_store::StoreError;
}

/// Implement `spontra_store::UserStore` for `$store` (a struct with a `pool: sqlx::Pool<$db>`).
#[macro_export]
macro_rules! impl_user_store {
    ($store:ty, $db:ty) => {
        const USER_COLUMNS: &str = "id, email, password_hash, display_name, role, disabled, email_verified_at, created_at, updated_at, deleted_at";
        const SESSION_COLUMNS: &str = "id, user_id, created_at, last_used_at, expires_at, revoked_at, user_agent, ip";

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
                revoked_at: row.try_get("revoked_at")?,
                user_agent: row.try_get("user_agent")?,
                ip: row.try_get("ip")?,
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
                    .fetch_one(&self.pool)
                    .await
                    .map_err($crate::translate)?;
                user_from_row(&row).map_err($crate::translate)
            }

            async fn user_by_id(&self, id: spontra_store::UserId) -> spontra_store::StoreResult<spontra_store::User> {
                let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
                let row = $crate::sqlx::query(&sql).bind(id.0).fetch_one(&self.pool).await.map_err($crate::translate)?;
                user_from_row(&row).map_err($crate::translate)
            }

            async fn user_by_email(&self, email: &spontra_domain::Email) -> spontra_store::StoreResult<spontra_store::User> {
                let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
                let row = $crate::sqlx::query(&sql).bind(email.as_str()).fetch_one(&self.pool).await.map_err($crate::translate)?;
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
                    .fetch_one(&self.pool)
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
                    .bind(limit as i64)
                    .bind(offset as i64)
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::translate)?;
                rows.iter().map(user_from_row).collect::<Result<_, _>>().map_err($crate::translate)
            }

            async fn anonymise_user(&self, id: spontra_store::UserId, at: chrono::DateTime<chrono::Utc>) -> spontra_store::StoreResult<()> {
                let mut tx = self.pool.begin().await.map_err($crate::translate)?;
                let done = $crate::sqlx::query(
                    "UPDATE users SET email = NULL, display_name = '', password_hash = '', disabled = TRUE, \
                     deleted_at = $2, updated_at = $2 WHERE id = $1",
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
                    "DELETE FROM refresh_tokens WHERE session_id IN (SELECT id FROM sessions WHERE user_id = $1)",
                ] {
                    $crate::sqlx::query(sql).bind(id.0).execute(&mut *tx).await.map_err($crate::translate)?;
                }
                $crate::sqlx::query("UPDATE sessions SET revoked_at = $2, user_agent = '', ip = '' WHERE user_id = $1 AND revoked_at IS NULL")
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
                    .fetch_optional(&self.pool)
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
                .execute(&self.pool)
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
                    .execute(&self.pool)
                    .await
                    .map_err($crate::translate)?;
                Ok(())
            }

            async fn consents(&self, id: spontra_store::UserId) -> spontra_store::StoreResult<Vec<spontra_store::Consent>> {
                use $crate::sqlx::Row;
                let rows = $crate::sqlx::query("SELECT kind, granted, recorded_at FROM consents WHERE user_id = $1 ORDER BY recorded_at, seq")
                    .bind(id.0)
                    .fetch_all(&self.pool)
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

            async fn create_session(&self, s: &spontra_store::NewSession) -> spontra_store::StoreResult<spontra_store::Session> {
                let mut tx = self.pool.begin().await.map_err($crate::translate)?;
                let sql = format!(
                    "INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, user_agent, ip) \
                     VALUES ($1, $2, $3, $3, $4, $5, $6) RETURNING {SESSION_COLUMNS}"
                );
                let row = $crate::sqlx::query(&sql)
                    .bind(s.id.0)
                    .bind(s.user_id.0)
                    .bind(s.created_at)
                    .bind(s.expires_at)
                    .bind(&s.user_agent)
                    .bind(&s.ip)
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
                tx.commit().await.map_err($crate::translate)?;
                session_from_row(&row).map_err($crate::translate)
            }

            async fn session(&self, id: spontra_store::SessionId) -> spontra_store::StoreResult<spontra_store::Session> {
                let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1");
                let row = $crate::sqlx::query(&sql).bind(id.0).fetch_one(&self.pool).await.map_err($crate::translate)?;
                session_from_row(&row).map_err($crate::translate)
            }

            async fn live_sessions(&self, user: spontra_store::UserId, now: chrono::DateTime<chrono::Utc>) -> spontra_store::StoreResult<Vec<spontra_store::Session>> {
                let sql = format!(
                    "SELECT {SESSION_COLUMNS} FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 \
                     ORDER BY created_at DESC, id"
                );
                let rows = $crate::sqlx::query(&sql).bind(user.0).bind(now).fetch_all(&self.pool).await.map_err($crate::translate)?;
                rows.iter().map(session_from_row).collect::<Result<_, _>>().map_err($crate::translate)
            }

            async fn rotate_refresh(&self, presented: &str, replacement: &str, now: chrono::DateTime<chrono::Utc>) -> spontra_store::StoreResult<spontra_store::Rotation> {
                use $crate::sqlx::Row;
                let mut tx = self.pool.begin().await.map_err($crate::translate)?;
                let found = $crate::sqlx::query(
                    "SELECT r.session_id, r.used_at, s.user_id, s.revoked_at, s.expires_at \
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
                if used.is_some() {
                    revoke_in(&mut tx, session, now).await.map_err($crate::translate)?;
                    tx.commit().await.map_err($crate::translate)?;
                    return Ok(spontra_store::Rotation::ReuseDetected(spontra_store::UserId(user)));
                }
                if revoked.is_some() || expires <= now {
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
                let sql = format!("UPDATE sessions SET last_used_at = $2 WHERE id = $1 RETURNING {SESSION_COLUMNS}");
                let row = $crate::sqlx::query(&sql).bind(session).bind(now).fetch_one(&mut *tx).await.map_err($crate::translate)?;
                tx.commit().await.map_err($crate::translate)?;
                Ok(spontra_store::Rotation::Rotated(session_from_row(&row).map_err($crate::translate)?))
            }

            async fn revoke_session(&self, id: spontra_store::SessionId, at: chrono::DateTime<chrono::Utc>) -> spontra_store::StoreResult<()> {
                $crate::sqlx::query("UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                    .bind(id.0)
                    .bind(at)
                    .execute(&self.pool)
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
                let done = $crate::sqlx::query(
                    "UPDATE sessions SET revoked_at = $3 WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $3 \
                     AND ($2 IS NULL OR id <> $2)",
                )
                .bind(user.0)
                .bind(keep.map(|k| k.0))
                .bind(at)
                .execute(&self.pool)
                .await
                .map_err($crate::translate)?;
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
                .execute(&self.pool)
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
                let mut tx = self.pool.begin().await.map_err($crate::translate)?;
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
        }
    };
}
