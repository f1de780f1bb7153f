//! What an error page tells a person to do next, by what went wrong and who is asking: the
//! status line says what happened, these lines say how to get on.

use crate::auth::{CurrentUser, Role};
use crate::error::ErrorBody;
use axum::http::StatusCode;

/// One thing to do next, with the page that does it when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextStep {
    pub text: String,
    pub link: Option<(String, String)>,
}

impl NextStep {
    fn say(text: impl Into<String>) -> Self {
        NextStep {
            text: text.into(),
            link: None,
        }
    }

    fn link(text: impl Into<String>, href: impl Into<String>, label: impl Into<String>) -> Self {
        NextStep {
            text: text.into(),
            link: Some((href.into(), label.into())),
        }
    }
}

/// The steps for `body`, answered to `user` at `path` (path and query of the request).
pub fn next_steps(body: &ErrorBody, user: Option<&CurrentUser>, path: &str) -> Vec<NextStep> {
    let dashboard = || NextStep::link("Start again from", "/", "the dashboard");
    match body.status {
        StatusCode::FORBIDDEN if body.code != crate::http::CROSS_SITE && user.is_some() => {
            let u = user.expect("checked above");
            let mut steps = vec![NextStep::say(format!(
                "You are signed in as {} with the {} role. {}",
                u.name,
                u.role,
                what_the_role_needs(u.role, &body.message)
            ))];
            if u.role >= Role::Admin {
                steps.push(NextStep::link(
                    "Roles are set on",
                    "/users",
                    "the Users page",
                ));
            }
            steps.push(dashboard());
            steps
        }
        StatusCode::FORBIDDEN => vec![
            NextStep::say(
                "The panel refuses a form sent from another site or an old tab. Reload the page \
                 and send it again from there.",
            ),
            dashboard(),
        ],
        StatusCode::NOT_FOUND => {
            let mut steps = vec![NextStep::say(
                "Nothing is at this address. A deployment or job that was deleted, or a link \
                 with a typo, leads here.",
            )];
            if user.is_some_and(CurrentUser::is_admin) {
                steps.push(NextStep::link(
                    "Who deleted what, and when, is in",
                    "/audit",
                    "the audit log",
                ));
            }
            steps.push(NextStep::link(
                "The deployments are listed on",
                "/",
                "the dashboard",
            ));
            steps
        }
        StatusCode::CONFLICT | StatusCode::PRECONDITION_FAILED => vec![
            NextStep::say(
                "Someone or something changed this since the page was loaded, or a job is still \
                 running on it. Nothing was changed by this request.",
            ),
            NextStep::link("Load the latest state:", back_to(path), "reload"),
        ],
        StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => vec![
            NextStep::say(
                "Nothing was saved by this request. Go back, correct the field named above and \
                 send it again.",
            ),
            dashboard(),
        ],
        StatusCode::PAYLOAD_TOO_LARGE => vec![NextStep::say(
            "The request was larger than the panel accepts. Send a smaller file or fewer values.",
        )],
        s if s.is_server_error() => vec![
            NextStep::say(
                "This is the panel's fault, not yours. Try again in a moment; if it happens \
                 again, report it with the request id below.",
            ),
            dashboard(),
        ],
        _ => vec![dashboard()],
    }
}

/// The sentence about roles under a 403: who can do it, and who to ask.
fn what_the_role_needs(role: Role, message: &str) -> String {
    let needs_admin = message.contains("admin");
    match (role, needs_admin) {
        (Role::Viewer, false) => "Viewers can look at everything; changing drafts, planning and \
            applying need an editor. Ask an admin of this panel for the editor role."
            .into(),
        (_, true) => "Managing users, tokens and the audit log needs an admin. Ask an admin of \
            this panel to do it, or to give you the admin role."
            .into(),
        _ => "Ask an admin of this panel for a role that allows it.".into(),
    }
}

/// Where "reload" goes: the deployment's or the job's page the request was about (a refused
/// action such as `/deployments/3/apply` has no page of its own), else the dashboard.
fn back_to(path: &str) -> String {
    let path = path.split('?').next().unwrap_or("/");
    let mut parts = path.split('/').skip(1);
    match (parts.next(), parts.next()) {
        (Some(kind @ ("deployments" | "jobs")), Some(id)) if id.parse::<i64>().is_ok() => {
            format!("/{kind}/{id}")
        }
        _ => "/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::AuthMethod;

    fn user(role: Role) -> CurrentUser {
        CurrentUser {
            id: 1,
            name: "vera".into(),
            role,
            method: AuthMethod::Session,
        }
    }

    fn body(status: StatusCode, code: &'static str, message: &str) -> ErrorBody {
        ErrorBody {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }

    #[test]
    fn a_viewer_is_told_an_editor_is_needed_and_who_to_ask() {
        let steps = next_steps(
            &body(
                StatusCode::FORBIDDEN,
                "forbidden",
                "this needs the editor role or higher",
            ),
            Some(&user(Role::Viewer)),
            "/deployments/new",
        );
        assert!(
            steps[0]
                .text
                .contains("signed in as vera with the viewer role")
        );
        assert!(steps[0].text.contains("need an editor"), "{steps:?}");
        assert!(
            steps
                .iter()
                .all(|s| s.link.as_ref().is_none_or(|l| l.0 != "/users"))
        );
    }

    #[test]
    fn an_editor_refused_an_admin_page_is_told_admins_manage_it() {
        let steps = next_steps(
            &body(
                StatusCode::FORBIDDEN,
                "forbidden",
                "this needs the admin role or higher",
            ),
            Some(&user(Role::Editor)),
            "/users",
        );
        assert!(steps[0].text.contains("needs an admin"), "{steps:?}");
    }

    #[test]
    fn a_cross_site_form_is_told_to_reload() {
        let csrf = ErrorBody {
            code: crate::http::CROSS_SITE,
            ..ErrorBody::for_status(StatusCode::FORBIDDEN)
        };
        for who in [None, Some(user(Role::Admin))] {
            let steps = next_steps(&csrf, who.as_ref(), "/deployments");
            assert!(steps[0].text.contains("Reload the page"), "{steps:?}");
        }
    }

    #[test]
    fn not_found_points_admins_at_the_audit_log_only() {
        let b = body(StatusCode::NOT_FOUND, "not_found", "not found");
        let admin = next_steps(&b, Some(&user(Role::Admin)), "/deployments/9");
        assert!(
            admin
                .iter()
                .any(|s| s.link.as_ref().is_some_and(|l| l.0 == "/audit"))
        );
        let viewer = next_steps(&b, Some(&user(Role::Viewer)), "/deployments/9");
        assert!(
            viewer
                .iter()
                .all(|s| s.link.as_ref().is_none_or(|l| l.0 != "/audit"))
        );
    }

    #[test]
    fn a_conflict_reloads_the_page_it_came_from_and_never_another_site() {
        let b = body(StatusCode::CONFLICT, "conflict", "a job is running");
        let steps = next_steps(&b, None, "/deployments/3/apply?x=1");
        assert_eq!(steps[1].link.as_ref().unwrap().0, "/deployments/3");
        let steps = next_steps(&b, None, "//evil.example/x");
        assert_eq!(steps[1].link.as_ref().unwrap().0, "/");
    }
}
