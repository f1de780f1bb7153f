//! Browser sessions, kept in the `tower_sessions` table (created by migration 0001) so that a
//! sign-in survives a restart.

use super::Db;
pub use tower_sessions_sqlx_store::SqliteStore;

pub fn store(db: &Db) -> SqliteStore {
    SqliteStore::new(db.clone())
}
