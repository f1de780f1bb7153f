//! The route registry: the one way to add a route. Each route is registered with its
//! [`Access`] level, which both guards it (a route layer) and records `(method, path, access)`
//! in the table the app exposes ([`crate::route_table`]); the authorization-matrix test
//! compares that table with its own, so a route without an expected rule fails the tests.
//!
//! ```ignore
//! use switchyard::auth::{Access, Editor};
//! use switchyard::http::Routes;
//!
//! pub fn routes(r: Routes) -> Routes {
//!     r.get("/deployments", Access::Viewer, list)
//!      .post("/deployments", Access::Editor, create)
//! }
//! // Handlers can also take the capability: `async fn create(Editor(user): Editor, ...)`.
//! ```

use crate::AppState;
use crate::auth::{Access, CurrentUser};
use axum::Router;
use axum::extract::Request;
use axum::handler::Handler;
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, on};
use serde::Serialize;

/// One registered route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteInfo {
    #[serde(serialize_with = "ser_method")]
    pub method: Method,
    /// The axum path pattern, e.g. `/users/{id}/role`.
    pub path: &'static str,
    pub access: Access,
}

fn ser_method<S: serde::Serializer>(m: &Method, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(m.as_str())
}

/// The table of every route the app serves.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RouteTable(pub Vec<RouteInfo>);

impl RouteTable {
    pub fn iter(&self) -> impl Iterator<Item = &RouteInfo> {
        self.0.iter()
    }

    /// True when `GET path` is a registered route (the shell shows a nav entry only then).
    pub fn has_get(&self, path: &str) -> bool {
        self.0
            .iter()
            .any(|r| r.method == Method::GET && r.path == path)
    }

    /// The access rule of the route with this exact pattern.
    pub fn access(&self, method: &Method, path: &str) -> Option<Access> {
        self.0
            .iter()
            .find(|r| r.method == *method && r.path == path)
            .map(|r| r.access)
    }
}

/// A router under construction, with the table of what it routes.
pub struct Routes {
    router: Router<AppState>,
    table: Vec<RouteInfo>,
}

impl Default for Routes {
    fn default() -> Self {
        Self::new()
    }
}

impl Routes {
    pub fn new() -> Self {
        Routes {
            router: Router::new(),
            table: Vec::new(),
        }
    }

    /// Registers `handler` for `method path`, reachable only with `access`.
    pub fn on<H, T>(
        mut self,
        method: Method,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        assert!(
            !self
                .table
                .iter()
                .any(|r| r.method == method && r.path == path),
            "route {method} {path} registered twice"
        );
        let filter = axum::routing::MethodFilter::try_from(method.clone())
            .unwrap_or_else(|_| panic!("unsupported method {method}"));
        let mr: MethodRouter<AppState> = on(filter, handler);
        self.router = self.router.route(path, guarded(mr, access));
        self.table.push(RouteInfo {
            method,
            path,
            access,
        });
        self
    }

    pub fn get<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self {
        self.on(Method::GET, path, access, handler)
    }

    pub fn post<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self {
        self.on(Method::POST, path, access, handler)
    }

    pub fn put<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self {
        self.on(Method::PUT, path, access, handler)
    }

    pub fn patch<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self {
        self.on(Method::PATCH, path, access, handler)
    }

    pub fn delete<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self {
        self.on(Method::DELETE, path, access, handler)
    }

    /// Adds the routes of another registry (e.g. an area's `routes()`).
    pub fn merge(mut self, other: Routes) -> Self {
        for r in &other.table {
            assert!(
                !self
                    .table
                    .iter()
                    .any(|t| t.method == r.method && t.path == r.path),
                "route {} {} registered twice",
                r.method,
                r.path
            );
        }
        self.router = self.router.merge(other.router);
        self.table.extend(other.table);
        self
    }

    /// Applies `f` to an area's routes (a layer for a group, e.g. an `HxRequestGuardLayer`).
    pub fn map_router(mut self, f: impl FnOnce(Router<AppState>) -> Router<AppState>) -> Self {
        self.router = f(self.router);
        self
    }

    pub fn table(&self) -> RouteTable {
        RouteTable(self.table.clone())
    }

    pub fn into_parts(self) -> (Router<AppState>, RouteTable) {
        (self.router, RouteTable(self.table))
    }
}

fn guarded(mr: MethodRouter<AppState>, access: Access) -> MethodRouter<AppState> {
    if access == Access::Public {
        return mr;
    }
    mr.route_layer(middleware::from_fn(
        move |req: Request, next: Next| async move { require(access, req, next).await },
    ))
}

async fn require(access: Access, req: Request, next: Next) -> Response {
    match access.check(req.extensions().get::<CurrentUser>()) {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}
