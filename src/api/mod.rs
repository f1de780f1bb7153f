//! The JSON API under `/api/v1` (docs/contract.md §3), over the same domain, db and deploy calls as
//! the pages. Every area registers its routes through the route registry with its access level.

pub mod account;
pub mod adopt;
pub mod deployments;
pub mod jobs;
pub mod rollout;
pub mod traffic;

use crate::http::Routes;

/// Adds every API route to `r`.
pub fn routes(r: Routes) -> Routes {
    let r = account::routes(r);
    let r = deployments::routes(r);
    let r = adopt::routes(r);
    let r = traffic::routes(r);
    let r = rollout::routes(r);
    jobs::routes(r)
}
