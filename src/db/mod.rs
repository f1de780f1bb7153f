//! Every SQL statement lives under this module, one file per table family.

pub mod audit;
pub mod dashboard;
pub mod deployments;
pub mod drift_checks;
pub mod job_summaries;
pub mod live_facts;
pub mod plans;
pub mod sessions;
pub mod tokens;
pub mod users;

pub mod jobs;
pub mod sandbox;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use std::str::FromStr;
use std::time::Duration;

pub type Db = SqlitePool;

/// Opens (creating when missing) the SQLite database with WAL and foreign keys on.
pub async fn connect(url: &str) -> anyhow::Result<Db> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10));
    // A connection to a local file does not go stale: testing it before each use would only
    // add a round trip to its thread for every statement.
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .test_before_acquire(false)
        .connect_with(options)
        .await?;
    Ok(pool)
}

/// Applies every migration under `migrations/` that this database has not seen.
pub async fn migrate(db: &Db) -> anyhow::Result<()> {
    sqlx::migrate!("./migrations").run(db).await?;
    Ok(())
}

/// True when the database answers a trivial query.
pub async fn ping(db: &Db) -> bool {
    sqlx::query("SELECT 1").execute(db).await.is_ok()
}
