//! `adoptions` (migration 0030): which deployments adopted a hand-built load balancer, and what
//! of it adopting left alone.

use super::Db;
use serde::{Deserialize, Serialize};
use sqlx::FromRow;

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct AdoptionRow {
    pub deployment_id: i64,
    pub project: String,
    pub forwarding_rule: String,
    /// JSON array of [`Kept`].
    pub kept: String,
    pub adopted_by: String,
    pub adopted_at: String,
}

/// A part of the load balancer the spec does not express, left as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kept {
    pub resource: String,
    pub what: String,
    pub meaning: String,
}

impl AdoptionRow {
    pub fn kept(&self) -> Vec<Kept> {
        serde_json::from_str(&self.kept).unwrap_or_default()
    }
}

const COLUMNS: &str = "deployment_id, project, forwarding_rule, kept, adopted_by, adopted_at";

pub async fn record(
    db: &Db,
    deployment_id: i64,
    project: &str,
    forwarding_rule: &str,
    kept: &[Kept],
    adopted_by: &str,
) -> Result<AdoptionRow, sqlx::Error> {
    sqlx::query_as(&format!(
        "INSERT INTO adoptions (deployment_id, project, forwarding_rule, kept, adopted_by) \
         VALUES (?, ?, ?, ?, ?) RETURNING {COLUMNS}"
    ))
    .bind(deployment_id)
    .bind(project)
    .bind(forwarding_rule)
    .bind(serde_json::to_string(kept).expect("strings always serialise"))
    .bind(adopted_by)
    .fetch_one(db)
    .await
}

pub async fn get(db: &Db, deployment_id: i64) -> Result<Option<AdoptionRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM adoptions WHERE deployment_id = ?"
    ))
    .bind(deployment_id)
    .fetch_optional(db)
    .await
}
