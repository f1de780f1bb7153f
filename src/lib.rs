//! Switchyard: a web panel that puts Google Cloud's global load balancer in front of Cloud Run.

pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod jobs;
pub mod telemetry;
pub mod web;

use std::future::Future;
use tokio::net::TcpListener;

/// Everything a running panel shares between requests and background work.
#[derive(Clone)]
pub struct AppState {
    pub db: db::Db,
    pub settings: config::Settings,
}

/// Serves the panel on a listener the caller bound (tests bind port 0) until `shutdown` resolves.
pub async fn serve(
    settings: config::Settings,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let db = db::connect(&settings.database).await?;
    db::migrate(&db).await?;
    let state = AppState { db, settings };
    let app = web::router(state);
    tracing::info!(addr = %listener.local_addr()?, "switchyard listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}
