//! Every route of the router × anonymous, viewer, editor, admin and an API token: allowed or
//! denied. The expected table below must list every route the app registers, so a new route
//! without a rule here fails this test.

use crate::common::{Client, spawn_app};
use reqwest::Method;
use switchyard::auth::{Access, Role};

/// (method, path pattern, access, concrete path to request).
const EXPECTED: &[(&str, &str, Access, &str)] = &[
    ("GET", "/healthz", Access::Public, "/healthz"),
    (
        "GET",
        "/static/{*path}",
        Access::Public,
        "/static/css/switchyard.css",
    ),
    ("GET", "/signin", Access::Public, "/signin"),
    ("POST", "/signin", Access::Public, "/signin"),
    ("POST", "/signout", Access::Public, "/signout"),
    ("GET", "/setup", Access::Public, "/setup"),
    ("POST", "/setup", Access::Public, "/setup"),
    ("GET", "/", Access::Viewer, "/"),
    ("GET", "/users", Access::Admin, "/users"),
    ("POST", "/users", Access::Admin, "/users"),
    (
        "POST",
        "/users/{id}/role",
        Access::Admin,
        "/users/999999/role",
    ),
    (
        "POST",
        "/users/{id}/disable",
        Access::Admin,
        "/users/999999/disable",
    ),
    (
        "POST",
        "/users/{id}/enable",
        Access::Admin,
        "/users/999999/enable",
    ),
    (
        "POST",
        "/users/{id}/password",
        Access::Admin,
        "/users/999999/password",
    ),
    (
        "POST",
        "/users/{id}/tokens",
        Access::Admin,
        "/users/999999/tokens",
    ),
    (
        "POST",
        "/users/{id}/tokens/{token_id}/revoke",
        Access::Admin,
        "/users/999999/tokens/999999/revoke",
    ),
    ("GET", "/api/v1/me", Access::Viewer, "/api/v1/me"),
    ("POST", "/api/v1/users", Access::Admin, "/api/v1/users"),
    (
        "GET",
        "/deployments/{id}/plan",
        Access::Viewer,
        "/deployments/999999/plan",
    ),
    (
        "POST",
        "/deployments/{id}/apply",
        Access::Editor,
        "/deployments/999999/apply",
    ),
    (
        "GET",
        "/deployments/{id}/destroy",
        Access::Viewer,
        "/deployments/999999/destroy",
    ),
    (
        "POST",
        "/deployments/{id}/destroy",
        Access::Editor,
        "/deployments/999999/destroy",
    ),
    // Adopting: viewers may see what exists in a project, editors turn one into a draft.
    (
        "GET",
        "/api/v1/projects/{project}/load-balancers",
        Access::Viewer,
        "/api/v1/projects/my-lb-project/load-balancers",
    ),
    (
        "POST",
        "/api/v1/projects/{project}/load-balancers/{lb_id}/adopt",
        Access::Editor,
        "/api/v1/projects/my-lb-project/load-balancers/nothing-here/adopt",
    ),
    // Deploying: plan reads the cloud (viewers may look), apply/destroy change it.
    (
        "POST",
        "/api/v1/deployments/{id}/plan",
        Access::Viewer,
        "/api/v1/deployments/999999/plan",
    ),
    (
        "POST",
        "/api/v1/deployments/{id}/apply",
        Access::Editor,
        "/api/v1/deployments/999999/apply",
    ),
    (
        "POST",
        "/api/v1/deployments/{id}/destroy",
        Access::Editor,
        "/api/v1/deployments/999999/destroy",
    ),
    ("GET", "/api/v1/jobs", Access::Viewer, "/api/v1/jobs"),
    (
        "GET",
        "/api/v1/jobs/{id}",
        Access::Viewer,
        "/api/v1/jobs/999999",
    ),
    (
        "POST",
        "/api/v1/jobs/{id}/cancel",
        Access::Editor,
        "/api/v1/jobs/999999/cancel",
    ),
    (
        "POST",
        "/api/v1/jobs/{id}/resume",
        Access::Editor,
        "/api/v1/jobs/999999/resume",
    ),
    // Deployments: pages and the JSON API.
    ("GET", "/deployments", Access::Viewer, "/deployments"),
    ("GET", "/adopt", Access::Editor, "/adopt"),
    ("POST", "/adopt", Access::Editor, "/adopt"),
    (
        "GET",
        "/deployments/new",
        Access::Editor,
        "/deployments/new",
    ),
    ("POST", "/deployments", Access::Editor, "/deployments"),
    (
        "GET",
        "/deployments/import",
        Access::Editor,
        "/deployments/import",
    ),
    (
        "POST",
        "/deployments/import",
        Access::Editor,
        "/deployments/import",
    ),
    (
        "GET",
        "/deployments/{id}",
        Access::Viewer,
        "/deployments/999999",
    ),
    (
        "GET",
        "/deployments/{id}/export",
        Access::Viewer,
        "/deployments/999999/export",
    ),
    (
        "POST",
        "/deployments/{id}/duplicate",
        Access::Editor,
        "/deployments/999999/duplicate",
    ),
    (
        "POST",
        "/deployments/{id}/delete",
        Access::Editor,
        "/deployments/999999/delete",
    ),
    (
        "POST",
        "/deployments/{id}/forget",
        Access::Editor,
        "/deployments/999999/forget",
    ),
    (
        "GET",
        "/deployments/{id}/versions",
        Access::Viewer,
        "/deployments/999999/versions",
    ),
    (
        "POST",
        "/deployments/{id}/restore",
        Access::Editor,
        "/deployments/999999/restore",
    ),
    (
        "GET",
        "/deployments/{id}/edit/{step}",
        Access::Viewer,
        "/deployments/999999/edit/basics",
    ),
    (
        "GET",
        "/pickers/projects",
        Access::Viewer,
        "/pickers/projects",
    ),
    (
        "GET",
        "/deployments/{id}/pickers/services",
        Access::Viewer,
        "/deployments/999999/pickers/services",
    ),
    (
        "POST",
        "/deployments/{id}/edit/{step}",
        Access::Editor,
        "/deployments/999999/edit/basics",
    ),
    (
        "POST",
        "/deployments/{id}/backends",
        Access::Editor,
        "/deployments/999999/backends",
    ),
    (
        "POST",
        "/deployments/{id}/backends/{index}",
        Access::Editor,
        "/deployments/999999/backends/0",
    ),
    (
        "POST",
        "/deployments/{id}/backends/{index}/remove",
        Access::Editor,
        "/deployments/999999/backends/0/remove",
    ),
    (
        "POST",
        "/deployments/{id}/services",
        Access::Editor,
        "/deployments/999999/services",
    ),
    (
        "POST",
        "/deployments/{id}/services/{index}",
        Access::Editor,
        "/deployments/999999/services/0",
    ),
    (
        "POST",
        "/deployments/{id}/services/{index}/remove",
        Access::Editor,
        "/deployments/999999/services/0/remove",
    ),
    (
        "POST",
        "/deployments/{id}/rules",
        Access::Editor,
        "/deployments/999999/rules",
    ),
    (
        "POST",
        "/deployments/{id}/rules/{index}",
        Access::Editor,
        "/deployments/999999/rules/0",
    ),
    (
        "POST",
        "/deployments/{id}/rules/{index}/remove",
        Access::Editor,
        "/deployments/999999/rules/0/remove",
    ),
    (
        "GET",
        "/api/v1/deployments",
        Access::Viewer,
        "/api/v1/deployments",
    ),
    (
        "POST",
        "/api/v1/deployments",
        Access::Editor,
        "/api/v1/deployments",
    ),
    (
        "GET",
        "/api/v1/deployments/{id}",
        Access::Viewer,
        "/api/v1/deployments/999999",
    ),
    (
        "PUT",
        "/api/v1/deployments/{id}",
        Access::Editor,
        "/api/v1/deployments/999999",
    ),
    (
        "DELETE",
        "/api/v1/deployments/{id}",
        Access::Editor,
        "/api/v1/deployments/999999",
    ),
    (
        "GET",
        "/api/v1/deployments/{id}/versions",
        Access::Viewer,
        "/api/v1/deployments/999999/versions",
    ),
    (
        "POST",
        "/api/v1/deployments/{id}/forget",
        Access::Editor,
        "/api/v1/deployments/999999/forget",
    ),
    ("GET", "/audit", Access::Admin, "/audit"),
    ("GET", "/jobs", Access::Viewer, "/jobs"),
    (
        "POST",
        "/deployments/{id}/drift",
        Access::Editor,
        "/deployments/999999/drift",
    ),
    ("GET", "/jobs/{id}", Access::Viewer, "/jobs/999999"),
    (
        "GET",
        "/jobs/{id}/progress",
        Access::Viewer,
        "/jobs/999999/progress",
    ),
    (
        "POST",
        "/jobs/{id}/cancel",
        Access::Editor,
        "/jobs/999999/cancel",
    ),
    (
        "POST",
        "/jobs/{id}/resume",
        Access::Editor,
        "/jobs/999999/resume",
    ),
    (
        "GET",
        "/dashboard/rows/{id}",
        Access::Viewer,
        "/dashboard/rows/999999",
    ),
    (
        "GET",
        "/deployments/{id}/overview",
        Access::Viewer,
        "/deployments/999999/overview",
    ),
    (
        "GET",
        "/deployments/{id}/certificate",
        Access::Viewer,
        "/deployments/999999/certificate",
    ),
    (
        "GET",
        "/deployments/{id}/route-test",
        Access::Viewer,
        "/deployments/999999/route-test",
    ),
];

#[test]
fn every_route_has_an_expected_rule() {
    let actual: Vec<(String, String, Access)> = switchyard::route_table()
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string(), r.access))
        .collect();
    let expected: Vec<(String, String, Access)> = EXPECTED
        .iter()
        .map(|(m, p, a, _)| (m.to_string(), p.to_string(), *a))
        .collect();
    let missing: Vec<_> = actual.iter().filter(|r| !expected.contains(r)).collect();
    let stale: Vec<_> = expected.iter().filter(|r| !actual.contains(r)).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "route table and tests/http/authz_matrix.rs EXPECTED differ.\n\
         registered but not expected (add a rule): {missing:#?}\n\
         expected but not registered (or with another access): {stale:#?}"
    );
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    Anonymous,
    Viewer,
    Editor,
    Admin,
    /// An API token of an editor.
    EditorToken,
}

impl Who {
    fn role(self) -> Option<Role> {
        match self {
            Who::Anonymous => None,
            Who::Viewer => Some(Role::Viewer),
            Who::Editor | Who::EditorToken => Some(Role::Editor),
            Who::Admin => Some(Role::Admin),
        }
    }
}

fn allowed(access: Access, who: Who) -> bool {
    match (access.min_role(), who.role()) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(min), Some(role)) => role >= min,
    }
}

#[tokio::test]
async fn authorization_matrix() {
    let app = spawn_app().await;
    // The admin exists first, so the setup link is spent and POST /setup stays harmless.
    let mut clients = [
        (Who::Anonymous, app.anonymous()),
        (Who::Viewer, app.user_client("viewer", Role::Viewer).await),
        (Who::Editor, app.user_client("editor", Role::Editor).await),
        (Who::Admin, app.user_client("admin", Role::Admin).await),
        (
            Who::EditorToken,
            app.token_client("robot", Role::Editor).await,
        ),
    ];
    // Sign-out ends the session: request it last.
    let mut routes: Vec<_> = EXPECTED.to_vec();
    routes.sort_by_key(|(_, p, _, _)| *p == "/signout");

    let mut failures = Vec::new();
    for (method, pattern, access, path) in &routes {
        for (who, client) in clients.iter_mut() {
            let method: Method = method.parse().unwrap();
            let mut req = client.request(method.clone(), path);
            if method == Method::POST {
                // An empty body: an allowed request fails validation (4xx) but changes nothing.
                req = if path.starts_with("/api/") {
                    req.header("content-type", "application/json").body("{}")
                } else {
                    req.header("content-type", "application/x-www-form-urlencoded")
                        .body("")
                };
            }
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            let to_signin = Client::is_signin_redirect(&r);
            let denied = status == 401 || status == 403 || to_signin;
            let want = allowed(*access, *who);
            if want == denied {
                failures.push(format!(
                    "{method} {pattern} as {who:?}: got {status}{}, expected {}",
                    if to_signin { " (to sign-in)" } else { "" },
                    if want { "allowed" } else { "denied" }
                ));
                continue;
            }
            if !want {
                // The shape of a denial: API → JSON 401/403; pages → sign-in or a 403 page.
                let api = path.starts_with("/api/");
                let expected = match (*who, api) {
                    (Who::Anonymous, true) => status == 401,
                    (Who::Anonymous, false) => to_signin,
                    (_, _) => status == 403,
                };
                if !expected {
                    failures.push(format!(
                        "{method} {pattern} as {who:?}: denied with {status}, wrong shape"
                    ));
                }
                if status == 401 || status == 403 {
                    let ctype = r
                        .headers()
                        .get("content-type")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string();
                    let body = r.text().await.unwrap();
                    if api {
                        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
                        assert!(v["error"]["code"].is_string(), "{body}");
                    } else {
                        assert!(ctype.starts_with("text/html"), "{pattern}: {ctype}");
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
