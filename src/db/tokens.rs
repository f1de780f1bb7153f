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

/// How often a token's `last_used_at` is written: a minute is precise enough for the Users
/// page, and a write on every API call would make each read take SQLite's write lock.
const LAST_USED_EVERY_SECONDS: i64 = 60;

#[derive(sqlx::FromRow)]
struct TokenUser {
    #[sqlx(flatten)]
    user: User,
    /// `last_used_at` is older than [`LAST_USED_EVERY_SECONDS`] (or unset).
    stale: bool,
}

/// The user owning the token with this hash (disabled or not: the caller decides), and notes the
/// use (at most once a minute).
pub async fn user_for_hash(db: &Db, token_hash: &str) -> sqlx::Result<Option<User>> {
    let found: Option<TokenUser> = sqlx::query_as(
        "SELECT u.id, u.name, u.role, u.password_hash, u.disabled, u.auth_version, u.created_at,
                coalesce(t.last_used_at < strftime('%Y-%m-%dT%H:%M:%SZ', 'now', ?), 1) AS stale
         FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?",
    )
    .bind(format!("-{LAST_USED_EVERY_SECONDS} seconds"))
    .bind(token_hash)
    .fetch_optional(db)
    .await?;
    let Some(found) = found else { return Ok(None) };
    if found.stale {
        sqlx::query(
            "UPDATE api_tokens SET last_used_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
             WHERE token_hash = ?",
        )
        .bind(token_hash)
        .execute(db)
        .await?;
    }
    Ok(Some(found.user))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn last_used(db: &Db, id: i64) -> Option<String> {
        sqlx::query_scalar("SELECT last_used_at FROM api_tokens WHERE id = ?")
            .bind(id)
            .fetch_one(db)
            .await
            .unwrap()
    }

    async fn set_last_used(db: &Db, id: i64, modifier: &str) {
        sqlx::query(
            "UPDATE api_tokens SET last_used_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', ?) \
             WHERE id = ?",
        )
        .bind(modifier)
        .bind(id)
        .execute(db)
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn a_use_is_noted_at_most_once_a_minute() {
        let (_dir, db) = crate::db::test_db().await;
        let user = crate::db::users::create(&db, "ann", crate::auth::Role::Editor, "x")
            .await
            .unwrap()
            .unwrap();
        let id = create(&db, user.id, "ci", "hash-1").await.unwrap();
        assert_eq!(last_used(&db, id).await, None);

        assert_eq!(
            user_for_hash(&db, "hash-1").await.unwrap().unwrap().id,
            user.id
        );
        let first = last_used(&db, id).await.expect("the first use is noted");

        // Used 30 s ago: this use is not written.
        set_last_used(&db, id, "-30 seconds").await;
        let recent = last_used(&db, id).await;
        assert!(recent.as_deref() < Some(first.as_str()));
        user_for_hash(&db, "hash-1").await.unwrap().unwrap();
        assert_eq!(last_used(&db, id).await, recent);

        // Used two minutes ago: noted again.
        set_last_used(&db, id, "-120 seconds").await;
        let old = last_used(&db, id).await;
        user_for_hash(&db, "hash-1").await.unwrap().unwrap();
        let noted = last_used(&db, id).await;
        assert!(noted > old && noted >= Some(first), "{noted:?}");

        assert!(user_for_hash(&db, "unknown").await.unwrap().is_none());
    }
}
