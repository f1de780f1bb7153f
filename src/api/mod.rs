//! The JSON API under `/api/v1` (CONTRACT.md §3), over the same domain and db calls as the
//! pages. Every area registers its routes through the route registry with its access level.

pub mod deployments;

use crate::web::Routes;

/// Adds every API route to `r`.
pub fn routes(r: Routes) -> Routes {
    deployments::routes(r)
}
