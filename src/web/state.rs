//! A deployment's state as the dashboard shows it, derived from its draft, its last applied spec
//! and its last job. Derived on read rather than stored, so it can never disagree with them.

use serde::Serialize;

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
        crate::domain::validate::parse(a),
        crate::domain::validate::parse(b),
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

/// `last_job` is `(kind, status)` of the deployment's newest job, with CONTRACT.md §3's job
/// statuses and kinds such as `apply` and `destroy`.
pub fn deployment_state(
    spec: &str,
    applied_spec: Option<&str>,
    last_job: Option<(&str, &str)>,
) -> DeploymentState {
    if let Some((kind, status)) = last_job {
        match status {
            "queued" | "running" if kind == "destroy" => return DeploymentState::Destroying,
            "queued" | "running" => return DeploymentState::Applying,
            "failed" | "cancelled" => return DeploymentState::Failed,
            _ => {}
        }
    }
    match applied_spec {
        None => DeploymentState::Draft,
        Some(applied) if same_spec(spec, applied) => DeploymentState::Applied,
        Some(_) => DeploymentState::Changed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DeploymentState::*;

    #[test]
    fn states() {
        let a = r#"{"name":"a","project":"p"}"#;
        let a2 = r#"{ "project": "p", "name": "a" }"#;
        let b = r#"{"name":"b","project":"p"}"#;
        assert_eq!(deployment_state(a, None, None), Draft);
        assert_eq!(deployment_state(a, Some(a2), None), Applied);
        assert_eq!(
            deployment_state(b, Some(a), Some(("apply", "succeeded"))),
            Changed
        );
        assert_eq!(
            deployment_state(a, None, Some(("apply", "running"))),
            Applying
        );
        assert_eq!(
            deployment_state(a, Some(a), Some(("destroy", "queued"))),
            Destroying
        );
        assert_eq!(
            deployment_state(a, Some(a), Some(("apply", "failed"))),
            Failed
        );
        assert_eq!(
            deployment_state(a, Some(a), Some(("apply", "cancelled"))),
            Failed
        );
        assert_eq!(
            deployment_state(a, None, Some(("destroy", "succeeded"))),
            Draft
        );
        assert!(!same_spec("not json", "not json "));
        assert!(Applying.is_busy() && !Failed.is_busy());
    }
}
