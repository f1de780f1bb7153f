//! Team accounts.

use super::Db;
use crate::auth::Role;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub password_hash: String,
    pub disabled: bool,
    pub auth_version: i64,
    pub created_at: String,
}

const COLUMNS: &str = "id, name, role, password_hash, disabled, auth_version, created_at";

pub async fn count(db: &Db) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(db)
        .await
}

pub async fn list(db: &Db) -> sqlx::Result<Vec<User>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users ORDER BY name"))
        .fetch_all(db)
        .await
}

pub async fn by_id(db: &Db, id: i64) -> sqlx::Result<Option<User>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE id = ?"))
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn by_name(db: &Db, name: &str) -> sqlx::Result<Option<User>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE name = ?"))
        .bind(name)
        .fetch_optional(db)
        .await
}

/// Creates a user; `Ok(None)` when the name is taken.
pub async fn create(
    db: &Db,
    name: &str,
    role: Role,
    password_hash: &str,
) -> sqlx::Result<Option<User>> {
    let res = sqlx::query_as(&format!(
        "INSERT INTO users (name, role, password_hash) VALUES (?, ?, ?) RETURNING {COLUMNS}"
    ))
    .bind(name)
    .bind(role)
    .bind(password_hash)
    .fetch_one(db)
    .await;
    match res {
        Ok(u) => Ok(Some(u)),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Creates the first user, only while there is none (the setup link). `Ok(None)` otherwise.
pub async fn create_first(
    db: &Db,
    name: &str,
    role: Role,
    password_hash: &str,
) -> sqlx::Result<Option<User>> {
    sqlx::query_as(&format!(
        "INSERT INTO users (name, role, password_hash)
         SELECT ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM users) RETURNING {COLUMNS}"
    ))
    .bind(name)
    .bind(role)
    .bind(password_hash)
    .fetch_optional(db)
    .await
}

/// Creates the user or updates its role and password (and enables it): `user add` on the CLI.
pub async fn upsert(db: &Db, name: &str, role: Role, password_hash: &str) -> sqlx::Result<User> {
    sqlx::query_as(&format!(
        "INSERT INTO users (name, role, password_hash) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET role = excluded.role,
             password_hash = excluded.password_hash, disabled = 0,
             auth_version = users.auth_version + 1
         RETURNING {COLUMNS}"
    ))
    .bind(name)
    .bind(role)
    .bind(password_hash)
    .fetch_one(db)
    .await
}

pub async fn set_role(db: &Db, id: i64, role: Role) -> sqlx::Result<bool> {
    let r = sqlx::query("UPDATE users SET role = ? WHERE id = ?")
        .bind(role)
        .bind(id)
        .execute(db)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Disables or enables a user. Disabling ends every session (a new `auth_version`) and deletes
/// every API token, for good: enabling again starts from nothing, so a disabled person's old
/// cookie or token never comes back to life.
pub async fn set_disabled(db: &Db, id: i64, disabled: bool) -> sqlx::Result<bool> {
    let mut tx = db.begin().await?;
    let r = if disabled {
        sqlx::query("UPDATE users SET disabled = 1, auth_version = auth_version + 1 WHERE id = ?")
    } else {
        sqlx::query("UPDATE users SET disabled = 0 WHERE id = ?")
    }
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if disabled {
        sqlx::query("DELETE FROM api_tokens WHERE user_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(r.rows_affected() == 1)
}

/// Sets a new password and signs the user out of every session.
pub async fn set_password(db: &Db, id: i64, password_hash: &str) -> sqlx::Result<bool> {
    let r = sqlx::query(
        "UPDATE users SET password_hash = ?, auth_version = auth_version + 1 WHERE id = ?",
    )
    .bind(password_hash)
    .bind(id)
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Admins that can still sign in (to refuse removing the last one).
pub async fn count_active_admins(db: &Db) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0")
        .fetch_one(db)
        .await
}
