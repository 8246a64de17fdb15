//! Administration: find accounts, disable or enable them, change roles. Routes reach this
//! only through `AdminAuth`; the role is read from the account on every request.

use crate::error::AccountError;
use crate::service::{user_id, UsersService};
use spontra_domain::ErrorCode;
use spontra_http::Principal;
use spontra_store::{Role, StoreError, User, UserId, UserUpdate};

/// What an admin may change on an account.
#[derive(Clone, Copy, Debug, Default)]
pub struct AdminChange {
    pub disabled: Option<bool>,
    pub role: Option<Role>,
}

fn no_such_user() -> AccountError {
    AccountError::field(ErrorCode::NotFound, "id", "no such user")
}

pub fn parse_user_id(id: &str) -> Result<UserId, AccountError> {
    uuid::Uuid::parse_str(id)
        .map(UserId)
        .map_err(|_| no_such_user())
}

impl UsersService {
    /// Accounts whose email or name contains `query`, newest first.
    pub async fn find_users(
        &self,
        query: &str,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<User>, AccountError> {
        if !spontra_domain::is_printable_line(query) || query.chars().count() > 200 {
            return Err(AccountError::field(
                ErrorCode::InvalidText,
                "q",
                "search with up to 200 printable characters on one line",
            ));
        }
        self.store
            .search_users(query.trim(), limit, offset)
            .await
            .map_err(AccountError::from)
    }

    pub async fn user(&self, id: UserId) -> Result<User, AccountError> {
        self.store.user_by_id(id).await.map_err(|e| match e {
            StoreError::NotFound => no_such_user(),
            other => AccountError::from(other),
        })
    }

    /// Apply `change`. Disabling ends every session of the account at once. An admin cannot
    /// disable or demote themselves (so the last admin cannot lock everyone out by accident).
    pub async fn administer(
        &self,
        admin: &Principal,
        id: UserId,
        change: AdminChange,
    ) -> Result<User, AccountError> {
        let target = self.user(id).await?;
        if target.deleted_at.is_some() {
            return Err(no_such_user());
        }
        if change.disabled.is_none() && change.role.is_none() {
            // Nothing to change: the account as it is (a PATCH of no fields).
            return Ok(target);
        }
        if id == user_id(admin)?
            && (change.disabled == Some(true) || change.role == Some(Role::User))
        {
            return Err(AccountError::Forbidden(
                "you cannot disable or demote your own account; ask another administrator",
            ));
        }
        let now = self.clock.now();
        let update = UserUpdate {
            disabled: change.disabled,
            role: change.role,
            ..Default::default()
        };
        let user = self.store.update_user(id, &update, now).await?;
        if change.disabled == Some(true) {
            self.store.revoke_sessions(id, None, now).await?;
        }
        tracing::info!(target: "spontra::audit", event = "account.administered", admin = %admin.user_id, user_id = %id, disabled = ?change.disabled, role = ?change.role.map(Role::as_str), "security event");
        Ok(user)
    }
}
