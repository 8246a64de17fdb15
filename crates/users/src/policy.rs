//! The account rules an operator may tune (`[accounts]` in the configuration), with the
//! defaults the product ships.

use serde::Deserialize;
use spontra_http::PoolSize;
use std::time::Duration;

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AccountPolicy {
    /// A session (a chain of refresh tokens) ends this many days after sign-in…
    pub session_days: u32,
    /// …or after this many days without a refresh, whichever comes first.
    pub idle_days: u32,
    /// Live sessions per account; signing in once more ends the oldest.
    pub max_sessions: u32,
    /// Accounts created per hour from one client address.
    pub registrations_per_hour_per_address: usize,
    /// Mail-sending requests (registration, resend, forgot password) per hour from one client
    /// address.
    pub mail_requests_per_hour_per_address: usize,
    /// Mails of one kind (verification, reset) per hour to one email address.
    pub mails_per_hour_per_recipient: usize,
    /// Password hashing pool: workers (0: one per core), queue length, and the longest a
    /// request waits in the queue before it is answered 503, in seconds.
    pub hash_workers: usize,
    pub hash_queue: usize,
    pub hash_queue_timeout_secs: u64,
    /// How often expired sessions and tokens are deleted, in minutes.
    pub prune_every_minutes: u64,
}

impl Default for AccountPolicy {
    fn default() -> Self {
        AccountPolicy {
            session_days: 30,
            idle_days: 7,
            max_sessions: 50,
            registrations_per_hour_per_address: 20,
            mail_requests_per_hour_per_address: 30,
            mails_per_hour_per_recipient: 3,
            hash_workers: 0,
            hash_queue: 1024,
            hash_queue_timeout_secs: 20,
            prune_every_minutes: 60,
        }
    }
}

impl AccountPolicy {
    pub fn hash_pool(&self) -> PoolSize {
        let mut size = PoolSize::per_core(
            self.hash_queue,
            Duration::from_secs(self.hash_queue_timeout_secs),
        );
        if self.hash_workers > 0 {
            size.workers = self.hash_workers;
        }
        size
    }
}
