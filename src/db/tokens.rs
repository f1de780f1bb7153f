//! API tokens, stored as SHA-256 hashes of the secret.

use super::Db;
use super::users::User;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: i64,
    pub label: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

pub async fn create(db: &Db, user_id: i64, label: &str, token_hash: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO api_tokens (user_id, label, token_hash) VALUES (?, ?, ?) RETURNING id",
    )
    .bind(user_id)
    .bind(label)
    .bind(token_hash)
    .fetch_one(db)
    .await
}

pub async fn list_for_user(db: &Db, user_id: i64) -> sqlx::Result<Vec<ApiToken>> {
    sqlx::query_as(
        "SELECT id, user_id, label, created_at, last_used_at FROM api_tokens
         WHERE user_id = ? ORDER BY id",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
}

pub async fn list_all(db: &Db) -> sqlx::Result<Vec<ApiToken>> {
    sqlx::query_as(
        "SELECT id, user_id, label, created_at, last_used_at FROM api_tokens ORDER BY id",
    )
    .fetch_all(db)
    .await
}

/// Deletes a token of that user; false when there is none.
pub async fn revoke(db: &Db, user_id: i64, token_id: i64) -> sqlx::Result<bool> {
    let r = sqlx::query("DELETE FROM api_tokens WHERE id = ? AND user_id = ?")
        .bind(token_id)
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// The user owning the token with this hash (disabled or not: the caller decides), and notes the
/// use.
pub async fn user_for_hash(db: &Db, token_hash: &str) -> sqlx::Result<Option<User>> {
    let user: Option<User> = sqlx::query_as(
        "SELECT u.id, u.name, u.role, u.password_hash, u.disabled, u.auth_version, u.created_at
         FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?",
    )
    .bind(token_hash)
    .fetch_optional(db)
    .await?;
    if user.is_some() {
        sqlx::query(
            "UPDATE api_tokens SET last_used_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
             WHERE token_hash = ?",
        )
        .bind(token_hash)
        .execute(db)
        .await?;
    }
    Ok(user)
}
