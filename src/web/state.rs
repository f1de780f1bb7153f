//! A deployment's state as the dashboard shows it, derived from its draft, its last applied spec
//! and its last job. Derived on read rather than stored, so it can never disagree with them.
//!
//! What depends on the spec texts alone ([`SpecFacts`]) is remembered per draft version and
//! applying job ([`FactsMemo`]): parsing two specs for each of fifty rows was most of the cost of
//! a dashboard page.

use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentState {
    /// Never applied (or destroyed since): nothing of it is live.
    Draft,
    /// An apply is queued or running.
    Applying,
    /// A destroy is queued or running.
    Destroying,
    /// Live, and the draft is what was applied.
    Applied,
    /// Live, but the draft was edited since the last apply.
    Changed,
    /// The last job failed or was cancelled: the live state may be half-way.
    Failed,
}

impl DeploymentState {
    /// The CSS class suffix (`status-…`).
    pub fn css(self) -> &'static str {
        match self {
            DeploymentState::Draft => "draft",
            DeploymentState::Applying | DeploymentState::Destroying => "applying",
            DeploymentState::Applied => "applied",
            DeploymentState::Changed => "changed",
            DeploymentState::Failed => "failed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            DeploymentState::Draft => "draft",
            DeploymentState::Applying => "applying",
            DeploymentState::Destroying => "destroying",
            DeploymentState::Applied => "applied",
            DeploymentState::Changed => "changed since apply",
            DeploymentState::Failed => "failed",
        }
    }

    /// True while a job is working on the deployment (the row keeps refreshing).
    pub fn is_busy(self) -> bool {
        matches!(
            self,
            DeploymentState::Applying | DeploymentState::Destroying
        )
    }
}

/// Two spec documents are the same when they parse to the same spec (defaults filled in, so a
/// draft without `"cdn": false` equals the applied spec that has it), else when they are equal as
/// JSON (key order and whitespace do not matter).
pub fn same_spec(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    if let (Ok(x), Ok(y)) = (
        crate::domain::parse::parse(a),
        crate::domain::parse::parse(b),
    ) {
        return x == y;
    }
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// `applied` is `Some(draft is the same spec)` when something is applied, `None` when nothing
/// is; `last_job` is `(kind, status)` of the deployment's newest job, with docs/contract.md §3's job
/// statuses and kinds such as `apply` and `destroy`.
pub fn deployment_state(applied: Option<bool>, last_job: Option<(&str, &str)>) -> DeploymentState {
    if let Some((kind, status)) = last_job {
        match status {
            "queued" | "running" if kind == "destroy" => return DeploymentState::Destroying,
            "queued" | "running" => return DeploymentState::Applying,
            "failed" | "cancelled" => return DeploymentState::Failed,
            _ => {}
        }
    }
    match applied {
        None => DeploymentState::Draft,
        Some(true) => DeploymentState::Applied,
        Some(false) => DeploymentState::Changed,
    }
}

/// What a dashboard row shows of a deployment's specs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecFacts {
    /// `Some(draft is what was applied)`, `None` when nothing is applied.
    pub same_as_applied: Option<bool>,
    pub https: bool,
    pub domains: Vec<String>,
}

impl SpecFacts {
    /// From the draft and the applied spec: the frontend is the applied one (that is what is
    /// live), the draft's before any apply.
    pub fn derive(draft: &str, applied: Option<&str>) -> SpecFacts {
        let (https, domains) = frontend_of(applied.unwrap_or(draft));
        SpecFacts {
            same_as_applied: applied.map(|a| same_spec(draft, a)),
            https,
            domains,
        }
    }
}

/// The domains and protocol of a spec, read leniently: drafts may be incomplete.
fn frontend_of(spec: &str) -> (bool, Vec<String>) {
    #[derive(serde::Deserialize, Default)]
    struct Doc {
        #[serde(default)]
        frontend: Frontend,
    }
    #[derive(serde::Deserialize, Default)]
    struct Frontend {
        protocol: Option<serde_json::Value>,
        domains: Option<serde_json::Value>,
    }
    let doc: Doc = serde_json::from_str(spec).unwrap_or_default();
    let https = doc.frontend.protocol.as_ref().and_then(|p| p.as_str()) == Some("https");
    let domains = doc
        .frontend
        .domains
        .as_ref()
        .and_then(|d| d.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|d| d.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    (https, domains)
}

/// Which specs a [`SpecFacts`] was derived from: a deployment's draft at a version and the spec
/// of the job that applied it. Neither ever changes (a save makes a new version; a job's spec is
/// written once), so a remembered entry is never stale.
pub type FactsKey = (i64, i64, Option<i64>);

/// Remembered [`SpecFacts`], shared by every request.
#[derive(Debug, Default)]
pub struct FactsMemo {
    map: Mutex<HashMap<FactsKey, Arc<SpecFacts>>>,
}

/// Entries kept at most; past it the memo starts afresh (a page needs fifty).
const MEMO_LIMIT: usize = 4096;

impl FactsMemo {
    pub fn get(&self, key: &FactsKey) -> Option<Arc<SpecFacts>> {
        self.lock().get(key).cloned()
    }

    pub fn insert(&self, key: FactsKey, facts: Arc<SpecFacts>) {
        let mut map = self.lock();
        if map.len() >= MEMO_LIMIT {
            map.clear();
        }
        map.insert(key, facts);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<FactsKey, Arc<SpecFacts>>> {
        // A panic while holding the lock cannot leave the map half-written in a way that
        // matters: every entry is complete when inserted.
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DeploymentState::*;

    #[test]
    fn states() {
        assert_eq!(deployment_state(None, None), Draft);
        assert_eq!(deployment_state(Some(true), None), Applied);
        assert_eq!(
            deployment_state(Some(false), Some(("apply", "succeeded"))),
            Changed
        );
        assert_eq!(deployment_state(None, Some(("apply", "running"))), Applying);
        assert_eq!(
            deployment_state(Some(true), Some(("destroy", "queued"))),
            Destroying
        );
        assert_eq!(
            deployment_state(Some(true), Some(("apply", "failed"))),
            Failed
        );
        assert_eq!(
            deployment_state(Some(true), Some(("apply", "cancelled"))),
            Failed
        );
        assert_eq!(
            deployment_state(None, Some(("destroy", "succeeded"))),
            Draft
        );
        assert!(Applying.is_busy() && !Failed.is_busy());
    }

    #[test]
    fn facts_compare_specs_and_read_the_live_frontend() {
        let a = r#"{"name":"a","project":"p","frontend":{"protocol":"http"}}"#;
        let a2 = r#"{ "project": "p", "name": "a", "frontend": {"protocol": "http"} }"#;
        let b = r#"{"name":"b","project":"p","frontend":{"protocol":"https","domains":["b.example.com"]}}"#;
        let facts = SpecFacts::derive(a, Some(a2));
        assert_eq!(facts.same_as_applied, Some(true));
        assert!(!facts.https && facts.domains.is_empty());
        // The applied spec is what is live: its frontend is shown while the draft differs.
        let facts = SpecFacts::derive(a, Some(b));
        assert_eq!(facts.same_as_applied, Some(false));
        assert!(facts.https);
        assert_eq!(facts.domains, ["b.example.com"]);
        // Nothing applied: the draft says what is planned, however incomplete.
        let facts = SpecFacts::derive(r#"{"frontend":{"domains":["x.example.com", 7]}}"#, None);
        assert_eq!(facts.same_as_applied, None);
        assert_eq!(facts.domains, ["x.example.com"]);
        assert_eq!(
            SpecFacts::derive("not json", None).domains,
            Vec::<String>::new()
        );
        assert!(!same_spec("not json", "not json "));
    }

    #[test]
    fn the_memo_remembers_and_stays_bounded() {
        let memo = FactsMemo::default();
        let facts = Arc::new(SpecFacts::derive("{}", None));
        assert!(memo.get(&(1, 1, None)).is_none());
        memo.insert((1, 1, None), facts.clone());
        assert_eq!(memo.get(&(1, 1, None)), Some(facts.clone()));
        assert!(memo.get(&(1, 2, None)).is_none());
        for n in 0..(MEMO_LIMIT as i64 + 10) {
            memo.insert((n, 1, Some(n)), facts.clone());
        }
        assert!(memo.lock().len() <= MEMO_LIMIT);
    }
}
