//! The audit log's one entry point: `audit::record(&db, actor, Action::X, target, detail)`.
//!
//! Recording never fails the request that is being recorded: a sign-in or an apply that happened
//! must not be reported as failed because its log line could not be written. A failed write is
//! logged as an error instead, so an operator sees the gap.
//!
//! `detail` must never contain a secret (passwords, token values, setup tokens): it is shown to
//! every admin. Put names, ids, versions and counts there.

use crate::db::Db;
use serde::Serialize;

/// What happened. Stored as [`Action::as_str`]; the admin page filters on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Action {
    SignIn,
    SignInFailed,
    SignOut,
    UserAdd,
    UserRole,
    UserDisable,
    UserEnable,
    UserPasswordReset,
    TokenCreate,
    TokenRevoke,
    DeploymentCreate,
    DeploymentEdit,
    DeploymentDelete,
    DeploymentForget,
    DeploymentImport,
    DeploymentRestore,
    DeploymentRollback,
    Plan,
    Apply,
    Destroy,
    DriftCheck,
    DeploymentConflictCopy,
    JobCancel,
    JobResume,
}

impl Action {
    pub const ALL: [Action; 24] = [
        Action::SignIn,
        Action::SignInFailed,
        Action::SignOut,
        Action::UserAdd,
        Action::UserRole,
        Action::UserDisable,
        Action::UserEnable,
        Action::UserPasswordReset,
        Action::TokenCreate,
        Action::TokenRevoke,
        Action::DeploymentCreate,
        Action::DeploymentEdit,
        Action::DeploymentDelete,
        Action::DeploymentForget,
        Action::DeploymentImport,
        Action::DeploymentRestore,
        Action::DeploymentRollback,
        Action::Plan,
        Action::Apply,
        Action::Destroy,
        Action::DriftCheck,
        Action::DeploymentConflictCopy,
        Action::JobCancel,
        Action::JobResume,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::SignIn => "signin",
            Action::SignInFailed => "signin.failed",
            Action::SignOut => "signout",
            Action::UserAdd => "user.add",
            Action::UserRole => "user.role",
            Action::UserDisable => "user.disable",
            Action::UserEnable => "user.enable",
            Action::UserPasswordReset => "user.password_reset",
            Action::TokenCreate => "token.create",
            Action::TokenRevoke => "token.revoke",
            Action::DeploymentCreate => "deployment.create",
            Action::DeploymentEdit => "deployment.edit",
            Action::DeploymentDelete => "deployment.delete",
            Action::DeploymentForget => "deployment.forget",
            Action::DeploymentImport => "deployment.import",
            Action::DeploymentRestore => "deployment.restore",
            Action::DeploymentRollback => "deployment.rollback",
            Action::Plan => "deployment.plan",
            Action::Apply => "deployment.apply",
            Action::Destroy => "deployment.destroy",
            Action::DriftCheck => "deployment.drift_check",
            Action::DeploymentConflictCopy => "deployment.conflict_copy",
            Action::JobCancel => "job.cancel",
            Action::JobResume => "job.resume",
        }
    }

    /// Words for the admin page.
    pub fn label(self) -> &'static str {
        match self {
            Action::SignIn => "signed in",
            Action::SignInFailed => "failed to sign in",
            Action::SignOut => "signed out",
            Action::UserAdd => "added a user",
            Action::UserRole => "changed a role",
            Action::UserDisable => "disabled a user",
            Action::UserEnable => "enabled a user",
            Action::UserPasswordReset => "reset a password",
            Action::TokenCreate => "created an API token",
            Action::TokenRevoke => "revoked an API token",
            Action::DeploymentCreate => "created a draft",
            Action::DeploymentEdit => "edited a draft",
            Action::DeploymentDelete => "deleted a deployment",
            Action::DeploymentForget => "forgot a deployment, leaving its resources running",
            Action::DeploymentImport => "imported a spec",
            Action::DeploymentRestore => "restored a version",
            Action::DeploymentRollback => "rolled back",
            Action::Plan => "planned",
            Action::Apply => "applied",
            Action::Destroy => "destroyed",
            Action::DriftCheck => "checked for drift",
            Action::DeploymentConflictCopy => {
                "saved over a newer version: the edit was kept as a conflict copy"
            }
            Action::JobCancel => "cancelled a job",
            Action::JobResume => "resumed a job",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// The `target` of an action on a deployment.
pub fn deployment(id: i64) -> String {
    format!("deployment:{id}")
}

/// The `target` of an action on a user (by name: ids mean nothing to a reader).
pub fn user(name: &str) -> String {
    format!("user:{name}")
}

/// The `target` of a job.
pub fn job(id: i64) -> String {
    format!("job:{id}")
}

/// Who did it, when nobody is signed in (a failed sign-in, the first-admin setup).
pub const ANONYMOUS: &str = "(anonymous)";

/// Appends one entry. See the module documentation for why this returns nothing.
pub async fn record(db: &Db, actor: &str, action: Action, target: &str, detail: serde_json::Value) {
    let detail = if detail.is_null() {
        "{}".to_string()
    } else {
        detail.to_string()
    };
    if let Err(e) = crate::db::audit::insert(db, actor, action.as_str(), target, &detail).await {
        tracing::error!(error = %e, actor, action = action.as_str(), target, "writing the audit log");
    }
}

/// Records an action on a job (cancel, resume), naming the job's deployment so the entry is
/// found from either.
pub async fn record_job(db: &Db, actor: &str, action: Action, job_id: i64) {
    let deployment = match crate::db::jobs::get_job(db, job_id).await {
        Ok(Some(j)) => serde_json::Value::String(j.deployment),
        _ => serde_json::Value::Null,
    };
    record(
        db,
        actor,
        action,
        &job(job_id),
        serde_json::json!({ "deployment": deployment }),
    )
    .await;
}

/// The creation of a deployment that adopts load balancer `lb_id` of `project`, from the API or
/// the adopt page (`via`).
pub async fn record_adoption(
    db: &Db,
    user: &str,
    row: &crate::db::deployments::DeploymentRow,
    project: &str,
    lb_id: &str,
    via: &str,
) {
    record(
        db,
        user,
        Action::DeploymentCreate,
        &deployment(row.id),
        serde_json::json!({"name": row.name, "version": row.version, "via": via,
               "adopted": format!("projects/{project}/global/forwardingRules/{lb_id}")}),
    )
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_names_are_unique_and_parse_back() {
        let mut names: Vec<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(a));
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Action::ALL.len());
        assert_eq!(Action::parse("nope"), None);
    }

    #[tokio::test]
    async fn record_writes_one_row() {
        let (_dir, db) = crate::db::test_db().await;
        record(
            &db,
            "ann",
            Action::UserRole,
            &user("bob"),
            serde_json::json!({"from": "viewer", "to": "editor"}),
        )
        .await;
        record(
            &db,
            ANONYMOUS,
            Action::SignInFailed,
            "",
            serde_json::Value::Null,
        )
        .await;
        let rows = crate::db::audit::page(&db, &Default::default(), None, 10)
            .await
            .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].detail, "{}");
        assert_eq!(
            (
                rows[1].actor.as_str(),
                rows[1].action.as_str(),
                rows[1].target.as_str()
            ),
            ("ann", "user.role", "user:bob")
        );
        let detail: serde_json::Value = serde_json::from_str(&rows[1].detail).unwrap();
        assert_eq!(detail["to"], "editor");
    }
}
