//! The admins' audit log page (`/audit`): who did what and when, newest first, filtered by
//! actor, action and target, paged by key (`?before=AT,ID`) so that the last page costs what
//! the first costs.

use super::{Routes, Shell, render, urlencode};
use crate::AppState;
use crate::audit::Action;
use crate::auth::{Access, Admin};
use crate::db::audit::{AuditRow, Cursor, Filter};
use crate::error::{AppError, AppResult, Query};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

pub fn routes(r: Routes) -> Routes {
    r.get("/audit", Access::Admin, audit_page)
}

/// Rows per page.
const PAGE: i64 = 50;

#[derive(Debug, Default, Deserialize)]
struct AuditQuery {
    actor: Option<String>,
    action: Option<String>,
    target: Option<String>,
    before: Option<String>,
}

fn nonempty(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Parses a keyset cursor `AT,ID` (as written by [`cursor_text`]).
pub fn parse_cursor(field: &str, s: &str) -> Result<Cursor, AppError> {
    let bad = || {
        AppError::invalid(
            field,
            "not a page position: follow the links for older entries instead of editing them",
        )
    };
    let (at, id) = s.rsplit_once(',').ok_or_else(bad)?;
    let id: i64 = id.trim().parse().map_err(|_| bad())?;
    let valid_at = !at.is_empty()
        && at.len() <= 40
        && at
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | ':' | '.' | 'T' | 'Z' | ' '));
    if !valid_at {
        return Err(bad());
    }
    Ok(Cursor {
        at: at.to_string(),
        id,
    })
}

pub fn cursor_text(c: &Cursor) -> String {
    format!("{},{}", c.at, c.id)
}

pub struct Entry {
    pub row: AuditRow,
    pub label: &'static str,
    /// A link to what was acted on, when it has a page.
    pub target_href: Option<String>,
    /// `detail` as `key: value` pairs.
    pub detail: Vec<(String, String)>,
}

/// `{"from":"viewer","to":"editor"}` → `[("from","viewer"), ("to","editor")]`; strings are shown
/// without their quotes.
fn detail_pairs(detail: &str) -> Vec<(String, String)> {
    match serde_json::from_str::<serde_json::Value>(detail) {
        Ok(serde_json::Value::Object(map)) => map
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, v)
            })
            .collect(),
        Ok(serde_json::Value::Null) | Err(_) if detail.trim().is_empty() => Vec::new(),
        _ => vec![("detail".into(), detail.to_string())],
    }
}

fn target_href(state: &AppState, target: &str) -> Option<String> {
    let (kind, key) = target.split_once(':')?;
    let (pattern, prefix) = match kind {
        "deployment" => ("/deployments/{id}", "/deployments/"),
        "job" => ("/jobs/{id}", "/jobs/"),
        _ => return None,
    };
    (key.parse::<i64>().is_ok() && state.routes.has_get(pattern)).then(|| format!("{prefix}{key}"))
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    shell: Shell,
    entries: Vec<Entry>,
    actions: Vec<(&'static str, &'static str)>,
    actor: String,
    action: String,
    target: String,
    /// Link to the next (older) page, if there is one.
    older: Option<String>,
    /// True when this is not the first page.
    paged: bool,
    /// Link to the first page with the same filters.
    first: String,
}

async fn audit_page(
    State(state): State<AppState>,
    Admin(_): Admin,
    shell: Shell,
    Query(q): Query<AuditQuery>,
) -> AppResult<Response> {
    let filter = Filter {
        actor: nonempty(&q.actor),
        action: nonempty(&q.action),
        target: nonempty(&q.target),
    };
    if let Some(a) = &filter.action
        && Action::parse(a).is_none()
    {
        return Err(AppError::invalid("action", format!("unknown action {a:?}")));
    }
    let before = nonempty(&q.before)
        .map(|b| parse_cursor("before", &b))
        .transpose()?;
    let mut rows = crate::db::audit::page(&state.db, &filter, before.as_ref(), PAGE + 1).await?;
    let more = rows.len() as i64 > PAGE;
    rows.truncate(PAGE as usize);

    let mut base = String::from("/audit?");
    for (k, v) in [
        ("actor", &filter.actor),
        ("action", &filter.action),
        ("target", &filter.target),
    ] {
        if let Some(v) = v {
            base.push_str(&format!("{k}={}&", urlencode(v)));
        }
    }
    let older = match rows.last() {
        Some(last) if more => Some(format!(
            "{base}before={}",
            urlencode(&cursor_text(&Cursor::of(last)))
        )),
        _ => None,
    };
    let first = base.trim_end_matches(['&', '?']).to_string();
    let entries = rows
        .into_iter()
        .map(|row| Entry {
            label: Action::parse(&row.action).map_or("", Action::label),
            target_href: target_href(&state, &row.target),
            detail: detail_pairs(&row.detail),
            row,
        })
        .collect();
    render(
        StatusCode::OK,
        &AuditPage {
            shell,
            entries,
            actions: Action::ALL
                .iter()
                .map(|a| (a.as_str(), a.label()))
                .collect(),
            actor: filter.actor.unwrap_or_default(),
            action: filter.action.unwrap_or_default(),
            target: filter.target.unwrap_or_default(),
            older,
            paged: before.is_some(),
            first: if first.is_empty() {
                "/audit".into()
            } else {
                first
            },
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_a_422() {
        let c = Cursor {
            at: "2026-11-23T12:00:00.123Z".into(),
            id: 42,
        };
        assert_eq!(parse_cursor("before", &cursor_text(&c)).unwrap(), c);
        for bad in [
            "",
            "x",
            "2026,abc",
            ",5",
            "'; DROP TABLE x,1",
            "2026-01-01<b>,1",
        ] {
            let e = parse_cursor("before", bad).unwrap_err();
            assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        }
    }

    #[test]
    fn details_read_as_pairs() {
        assert_eq!(
            detail_pairs(r#"{"from":"viewer","to":"editor","version":3}"#),
            vec![
                ("from".to_string(), "viewer".to_string()),
                ("to".to_string(), "editor".to_string()),
                ("version".to_string(), "3".to_string()),
            ]
        );
        assert!(detail_pairs("{}").is_empty());
        assert!(detail_pairs("").is_empty());
        assert_eq!(detail_pairs("[1]"), vec![("detail".into(), "[1]".into())]);
    }
}
