//! Every SQL statement lives under this module, one file per table family.

pub mod adoptions;
pub mod audit;
pub mod dashboard;
pub mod deployments;
pub mod drift_checks;
pub mod forgotten;
pub mod job_summaries;
pub mod live_facts;
pub mod plans;
pub mod sessions;
pub mod tokens;
pub mod users;

pub mod jobs;
pub mod sandbox;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

pub type Db = SqlitePool;

/// Opens (creating when missing) the SQLite database with WAL, `synchronous=NORMAL` and
/// foreign keys on.
pub async fn connect(url: &str) -> anyhow::Result<Db> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // In WAL mode, NORMAL syncs the log at checkpoints rather than at every commit, which
        // takes a disk flush off each job step's bookkeeping. The database stays consistent
        // whatever happens; what a power loss (not a crash of the process: the OS still has
        // the log) can cost is the last commits. For a job that means a step's finish, its
        // log line or its operation name may be lost, so the step is run again: its call is
        // re-sent with the same requestId, which Google answers with the original operation
        // instead of doing the work twice, and a create told "already exists" adopts its own
        // resource. A user, token or deployment saved in the last moment before the power
        // went may have to be saved again.
        .synchronous(SqliteSynchronous::Normal)
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

/// The unit tests' database: a real SQLite file in its own temp dir, opened with [`connect`]
/// and migrated. Keep the [`TestDb`] alive as long as the pool: dropping it deletes the dir.
/// It also turns the tests' logging on when `TEST_LOG` is set.
#[cfg(test)]
pub async fn test_db() -> (TestDb, Db) {
    crate::telemetry::init_for_tests();
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let db = connect(&url).await.expect("open the test database");
    migrate(&db).await.expect("migrate the test database");
    (TestDb { _dir: dir, url }, db)
}

/// The temp dir of a [`test_db`], which can open more pools on the same file.
#[cfg(test)]
pub struct TestDb {
    _dir: tempfile::TempDir,
    url: String,
}

#[cfg(test)]
impl TestDb {
    /// A new pool on the same file, as another process or a restarted panel would open it.
    pub async fn reopen(&self) -> Db {
        connect(&self.url).await.expect("reopen the test database")
    }
}
