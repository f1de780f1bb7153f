//! The JSON API (CONTRACT.md §3) over the same domain, db and deploy calls as the pages.

pub mod jobs;

use crate::web::Routes;

pub fn routes(r: Routes) -> Routes {
    jobs::routes(r)
}
