//! Who is asking and what they may do: roles, access levels, the signed-in user, the capability
//! extractors, password and token hashing, the sign-in throttle and the one-time setup link.

pub mod throttle;

use crate::error::AppError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::Mutex;

/// A user's role. Ordered: viewer < editor < admin.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, sqlx::Type,
)]
#[serde(rename_all = "lowercase")]
#[sqlx(rename_all = "lowercase")]
pub enum Role {
    /// Reads everything.
    Viewer,
    /// Also edits deployments and runs jobs.
    Editor,
    /// Also manages users.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Editor, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "editor" => Ok(Role::Editor),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "unknown role {other:?}: expected viewer, editor or admin"
            )),
        }
    }
}

/// Who may reach a route. Every route is registered with one (see [`crate::http::Routes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Access {
    /// Anyone, signed in or not: sign-in, setup, `/healthz`, static files.
    Public,
    /// Any signed-in user or token.
    Viewer,
    /// Editors and admins.
    Editor,
    /// Admins only.
    Admin,
}

impl Access {
    /// The lowest role allowed, `None` for public routes.
    pub fn min_role(self) -> Option<Role> {
        match self {
            Access::Public => None,
            Access::Viewer => Some(Role::Viewer),
            Access::Editor => Some(Role::Editor),
            Access::Admin => Some(Role::Admin),
        }
    }

    /// `Ok` when `user` may pass; otherwise the error to answer with.
    pub fn check(self, user: Option<&CurrentUser>) -> Result<(), AppError> {
        match (self.min_role(), user) {
            (None, _) => Ok(()),
            (Some(_), None) => Err(AppError::Unauthorized),
            (Some(min), Some(u)) if u.role >= min => Ok(()),
            (Some(min), Some(_)) => Err(AppError::Forbidden(format!(
                "this needs the {min} role or higher"
            ))),
        }
    }
}

/// How the current request was authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AuthMethod {
    Session,
    Token,
}

/// The signed-in user (or token owner) of this request. Put in the request extensions by the
/// authentication middleware; take it as an extractor (rejects anonymous requests with 401) or
/// as `Option<CurrentUser>`.
#[derive(Debug, Clone, Serialize)]
pub struct CurrentUser {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub method: AuthMethod,
}

impl CurrentUser {
    pub fn is_admin(&self) -> bool {
        self.role >= Role::Admin
    }
    pub fn can_edit(&self) -> bool {
        self.role >= Role::Editor
    }
    /// Whether this user may see plain environment values: those who may edit them do;
    /// viewers see the names only (docs/contract.md §2.5).
    pub fn env_values(&self) -> crate::domain::env_values::EnvValues {
        use crate::domain::env_values::EnvValues;
        if self.can_edit() {
            EnvValues::Shown
        } else {
            EnvValues::Hidden
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<CurrentUser>()
            .cloned()
            .ok_or(AppError::Unauthorized)
    }
}

impl<S: Send + Sync> axum::extract::OptionalFromRequestParts<S> for CurrentUser {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<CurrentUser>().cloned())
    }
}

macro_rules! capability {
    ($(#[$doc:meta])* $name:ident, $access:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(pub CurrentUser);

        impl<S: Send + Sync> FromRequestParts<S> for $name {
            type Rejection = AppError;
            async fn from_request_parts(
                parts: &mut Parts,
                _: &S,
            ) -> Result<Self, Self::Rejection> {
                let user = parts.extensions.get::<CurrentUser>();
                $access.check(user)?;
                Ok($name(user.cloned().ok_or(AppError::Unauthorized)?))
            }
        }
    };
}

capability!(
    /// Capability: any signed-in user. A handler taking it cannot run for anonymous requests.
    Viewer,
    Access::Viewer
);
capability!(
    /// Capability: an editor or admin. A handler taking it cannot run for a viewer.
    Editor,
    Access::Editor
);
capability!(
    /// Capability: an admin. A handler taking it cannot run for anyone else.
    Admin,
    Access::Admin
);

/// Hashes a password with Argon2id (PHC string), off the async threads.
pub async fn hash_password(password: String) -> anyhow::Result<String> {
    Ok(tokio::task::spawn_blocking(move || password_auth::generate_hash(password)).await?)
}

/// Checks a password against its hash, off the async threads.
pub async fn verify_password(password: String, hash: String) -> anyhow::Result<bool> {
    Ok(
        tokio::task::spawn_blocking(move || {
            password_auth::verify_password(password, &hash).is_ok()
        })
        .await?,
    )
}

/// Minimum password length accepted anywhere.
pub const MIN_PASSWORD_LEN: usize = 8;

pub fn validate_password(password: &str) -> Result<(), AppError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(AppError::invalid(
            "password",
            format!("the password must have at least {MIN_PASSWORD_LEN} characters"),
        ));
    }
    Ok(())
}

pub fn validate_user_name(name: &str) -> Result<(), AppError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid(
            "name",
            "a user name is 1 to 64 letters, digits, '.', '_', '-' or '@'",
        ))
    }
}

/// A fresh random secret, URL-safe: used for API tokens and the setup link.
pub fn random_secret(prefix: &str) -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// What is stored for a token: the hex SHA-256 of the secret.
pub fn token_hash(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Prefix of every API token, so they are recognisable in secret scanners.
pub const TOKEN_PREFIX: &str = "sy_";

/// Authentication state shared by all requests.
#[derive(Debug, Default)]
pub struct AuthState {
    /// Hash of the one-time setup token while the database has no users and it is unused.
    pub setup_token_hash: Mutex<Option<String>>,
    pub throttle: throttle::Throttle,
}

impl AuthState {
    /// Arms a new setup token and returns it (the caller prints the link, once).
    pub fn arm_setup_token(&self) -> String {
        let token = random_secret("");
        *self.setup_token_hash.lock().unwrap() = Some(token_hash(&token));
        token
    }

    /// True when `token` is the armed setup token.
    pub fn setup_token_matches(&self, token: &str) -> bool {
        let guard = self.setup_token_hash.lock().unwrap();
        guard
            .as_deref()
            .is_some_and(|h| constant_time_eq(h.as_bytes(), token_hash(token).as_bytes()))
    }

    /// Disarms the setup token: it works once.
    pub fn consume_setup_token(&self, token: &str) -> bool {
        let mut guard = self.setup_token_hash.lock().unwrap();
        let matches = guard
            .as_deref()
            .is_some_and(|h| constant_time_eq(h.as_bytes(), token_hash(token).as_bytes()));
        if matches {
            *guard = None;
        }
        matches
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Viewer < Role::Editor && Role::Editor < Role::Admin);
    }

    #[test]
    fn setup_token_works_once() {
        let s = AuthState::default();
        let t = s.arm_setup_token();
        assert!(!s.setup_token_matches("nope"));
        assert!(s.setup_token_matches(&t));
        assert!(s.consume_setup_token(&t));
        assert!(!s.consume_setup_token(&t));
    }
}
