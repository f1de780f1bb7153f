//! The page shell every page extends (`templates/base.html`): navigation, who is signed in, and
//! the sandbox banner. Take [`Shell`] as an extractor and put it in the template as `shell`.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::config::GcpMode;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;

/// One entry of the navigation.
#[derive(Debug, Clone)]
pub struct NavItem {
    pub label: &'static str,
    pub href: &'static str,
    pub current: bool,
}

/// What `templates/base.html` needs.
#[derive(Debug, Clone)]
pub struct Shell {
    pub user: Option<CurrentUser>,
    /// True in `--gcp sandbox` mode: the banner says changes go to a simulated cloud.
    pub sandbox: bool,
    pub nav: Vec<NavItem>,
    pub css_url: &'static str,
    pub htmx_url: &'static str,
    pub htmx_sse_url: &'static str,
}

/// The navigation, in order. An entry shows only when its page is a registered route (and, for
/// Users and Audit, only to admins).
const NAV: [(&str, &str); 5] = [
    ("Dashboard", "/"),
    ("Deployments", "/deployments"),
    ("Jobs", "/jobs"),
    ("Users", "/users"),
    ("Audit", "/audit"),
];

impl Shell {
    pub fn build(state: &AppState, user: Option<CurrentUser>, path: &str) -> Shell {
        let path = path.split('?').next().unwrap_or(path);
        let nav = match &user {
            None => Vec::new(),
            Some(u) => NAV
                .iter()
                .filter(|(_, href)| state.routes.has_get(href))
                .filter(|(_, href)| !matches!(*href, "/users" | "/audit") || u.is_admin())
                .map(|(label, href)| NavItem {
                    label,
                    href,
                    current: if *href == "/" {
                        path == "/"
                    } else {
                        path == *href || path.starts_with(&format!("{href}/"))
                    },
                })
                .collect(),
        };
        Shell {
            user,
            sandbox: state.settings.gcp == GcpMode::Sandbox,
            nav,
            css_url: super::assets::css_url(),
            htmx_url: super::assets::HTMX_URL,
            htmx_sse_url: super::assets::HTMX_SSE_URL,
        }
    }
}

impl FromRequestParts<AppState> for Shell {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let user = parts.extensions.get::<CurrentUser>().cloned();
        Ok(Shell::build(state, user, parts.uri.path()))
    }
}
