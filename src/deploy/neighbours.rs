//! The panel's other deployments, read for the lint that compares deployments
//! ([`crate::domain::shared_names`]).

use crate::db::{self, Db};
use crate::domain::draft::Draft;
use crate::domain::shared_names::Neighbour;

/// Every live deployment but `except`, as its latest version describes it. A stored spec that
/// does not read back is left out: the lint is advice, and the deployment's own pages report it.
pub async fn neighbours(db: &Db, except: i64) -> Result<Vec<Neighbour>, sqlx::Error> {
    Ok(db::deployments::list(db)
        .await?
        .into_iter()
        .filter(|row| row.id != except)
        .filter_map(|row| {
            Some(Neighbour {
                draft: Draft::from_json(&row.spec).ok()?,
                name: row.name,
            })
        })
        .collect())
}
