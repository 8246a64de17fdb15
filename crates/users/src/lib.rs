//! The users service (in progress): password policy and argon2id hashing, JWT access tokens
//! with a rotating key ring, opaque refresh/verification/reset tokens stored as digests.

pub mod password;
pub mod tokens;
