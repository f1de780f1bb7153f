//! Drift: whether the live resources still match the last apply, and what they say about the
//! deployment (its IP, its certificate's status, kept in `deployment_live` for the dashboard).
//!
//! A check compiles the last applied spec, reads the live state with the same reader and the
//! same `read_live` the planner uses, and diffs them with the planner's `diff`: when that plan
//! is not all no-ops, the live state has drifted, and the plan's entries say how.

use crate::audit;
use crate::db::Db;
use crate::db::drift_checks::DriftRow;
use crate::deploy::live::{LiveReader, read_live};
use crate::domain::names;
use crate::domain::plan::{self, Action, Plan};
use crate::domain::spec::{IpKind, Protocol, Spec};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Resource path → the resource as `get` returned it (`None`: it does not exist); the planner's
/// `LiveState`.
pub type Live = BTreeMap<String, Option<Value>>;

/// The facts the dashboard shows without calling the cloud.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LiveFacts {
    pub ip: Option<String>,
    /// With `frontend.ipv6`: the IPv6 address (the reserved one, or an IPv6 rule's).
    pub ipv6: Option<String>,
    pub certificate: Option<String>,
    pub cert_status: Option<String>,
    /// Domain → status, as Google reports `managed.domainStatus`.
    pub domain_status: Value,
}

/// The live resource `collection/name` (global), matched by path so a full URL or a path with a
/// different prefix still matches.
fn find<'a>(live: &'a Live, collection: &str, name: &str) -> Option<(&'a str, &'a Value)> {
    let suffix = format!("global/{collection}/{name}");
    live.iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k.as_str(), v)))
        .find(|(k, _)| k.ends_with(&suffix))
}

pub fn live_facts(spec: &Spec, live: &Live) -> LiveFacts {
    let dep = spec.name.as_str();
    // A static address is its own resource; an ephemeral one only shows on the forwarding rules.
    let from_address = (spec.frontend.ip == IpKind::Static)
        .then(|| find(live, "addresses", &names::address(dep)))
        .flatten()
        .and_then(|(_, a)| a["address"].as_str().map(str::to_string));
    let from_rule = [
        names::https_forwarding_rule(dep),
        names::http_forwarding_rule(dep),
    ]
    .iter()
    .filter_map(|n| find(live, "forwardingRules", n))
    .find_map(|(_, fr)| {
        fr["IPAddress"]
            .as_str()
            // A rule created with the address's URL may echo the URL; only a literal IP counts.
            .filter(|ip| ip.parse::<std::net::IpAddr>().is_ok())
            .map(str::to_string)
    });
    let ipv6 = spec.frontend.ipv6.then(|| ipv6_of(spec, live)).flatten();
    let mut facts = LiveFacts {
        ip: from_address.or(from_rule),
        ipv6,
        domain_status: Value::Object(Default::default()),
        ..LiveFacts::default()
    };
    if spec.frontend.protocol == Protocol::Https {
        let wanted = names::certificate(dep, &spec.frontend.domains);
        // The certificate the spec asks for; during a domain change, the one still being replaced.
        let prefix = format!("global/sslCertificates/{dep}-cert-");
        let cert = find(live, "sslCertificates", &wanted).or_else(|| {
            live.iter()
                .filter_map(|(k, v)| v.as_ref().map(|v| (k.as_str(), v)))
                .find(|(k, _)| k.contains(&prefix))
        });
        if let Some((_, c)) = cert {
            facts.certificate = c["name"].as_str().map(str::to_string);
            facts.cert_status = c["managed"]["status"].as_str().map(str::to_string);
            if let Some(m) = c["managed"]["domainStatus"].as_object() {
                facts.domain_status = Value::Object(m.clone());
            }
        }
    }
    facts
}

/// The IPv6 address a deployment with `frontend.ipv6` answers on: its reserved IPv6 address,
/// or the address Google gave its IPv6 forwarding rules.
fn ipv6_of(spec: &Spec, live: &Live) -> Option<String> {
    let dep = spec.name.as_str();
    let literal = |v: &Value, field: &str| {
        v[field]
            .as_str()
            .filter(|ip| ip.parse::<std::net::Ipv6Addr>().is_ok())
            .map(str::to_string)
    };
    let from_address = (spec.frontend.ip == IpKind::Static)
        .then(|| find(live, "addresses", &names::ipv6_address(dep)))
        .flatten()
        .and_then(|(_, a)| literal(a, "address"));
    from_address.or_else(|| {
        [
            names::https_forwarding_rule_ipv6(dep),
            names::http_forwarding_rule_ipv6(dep),
        ]
        .iter()
        .filter_map(|n| find(live, "forwardingRules", n))
        .find_map(|(_, fr)| literal(fr, "IPAddress"))
    })
}

/// One resource whose live state differs from the last apply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Difference {
    /// What an apply would do about it: `create` (it is missing), `update`, `replace`, `delete`
    /// (it should not exist), or `conflict` (another owner holds the name).
    pub action: String,
    pub resource: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldDiff>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldDiff {
    pub field: String,
    /// As the last apply set it.
    pub expected: Value,
    pub live: Value,
}

impl Difference {
    /// The action in words, for the page.
    pub fn summary(&self) -> &'static str {
        match self.action.as_str() {
            "create" => "missing: deleted outside the panel",
            "delete" => "not in the applied spec",
            "update" => "changed outside the panel",
            "replace" => "changed in a way that needs replacing it",
            "conflict" => "owned by someone else",
            _ => "differs",
        }
    }
}

/// The plan's non-no-op entries and conflicts, as differences.
pub fn differences(plan: &Plan) -> Vec<Difference> {
    let mut out: Vec<Difference> = plan
        .entries
        .iter()
        .filter(|e| e.action != Action::Noop)
        .map(|e| Difference {
            action: e.action.name().to_string(),
            resource: e.resource.clone(),
            reason: match &e.action {
                Action::Replace { reason } => Some(reason.clone()),
                _ => None,
            },
            fields: e
                .changes
                .iter()
                .map(|c| FieldDiff {
                    field: c.field.clone(),
                    expected: c.desired.clone(),
                    live: c.live.clone(),
                })
                .collect(),
        })
        .collect();
    out.extend(plan.conflicts.iter().map(|c| Difference {
        action: "conflict".into(),
        resource: c.resource.clone(),
        reason: Some(c.message.clone()),
        fields: Vec::new(),
    }));
    out
}

/// Who asked for a check when nobody did: the periodic task.
pub const SCHEDULE: &str = "(schedule)";

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("deployment not found")]
    NotFound,
    #[error("{0} has never been applied: there is no live state to compare")]
    NotApplied(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Checks one deployment and records the result (and, with a readable live state, its IP and
/// certificate status). A cloud that cannot be read is recorded as an `error` result, not
/// returned as an error: the page shows why.
pub async fn check(
    db: &Db,
    reader: &dyn LiveReader,
    deployment_id: i64,
    requested_by: &str,
) -> Result<DriftRow, CheckError> {
    let d = crate::db::deployments::get(db, deployment_id)
        .await?
        .ok_or(CheckError::NotFound)?;
    let Some(applied) = crate::db::jobs::applied_job(db, d.id)
        .await?
        .map(|j| j.spec)
    else {
        return Err(CheckError::NotApplied(d.name));
    };
    let (result, diffs, error) = match crate::domain::parse::parse(&applied) {
        Err(e) => (
            "error",
            Vec::new(),
            Some(format!("the applied spec cannot be read: {}", e.message)),
        ),
        Ok(spec) => {
            // A backend that follows another deployment is compared with where it points now.
            let hops = match crate::deploy::chain::resolve(db, reader, &spec).await {
                Ok(h) => Ok(h),
                Err(crate::deploy::DeployError::Invalid(errors)) => Err(errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect::<Vec<_>>()
                    .join("; ")),
                Err(other) => Err(other.to_string()),
            };
            let graph = plan::compile_chained(&spec, hops.as_deref().unwrap_or_default());
            match read_live(reader, &graph, &Default::default()).await {
                Err(e) => ("error", Vec::new(), Some(e.to_string())),
                Ok(_) if hops.is_err() => (
                    "error",
                    Vec::new(),
                    hops.as_ref()
                        .err()
                        .map(|e| format!("cannot follow a chained deployment: {e}")),
                ),
                Ok(live) => {
                    let facts = live_facts(&spec, &live);
                    crate::db::live_facts::set_live(
                        db,
                        d.id,
                        facts.ip.as_deref(),
                        facts.certificate.as_deref(),
                        facts.cert_status.as_deref(),
                        &facts.domain_status,
                    )
                    .await?;
                    crate::db::live_facts::set_ipv6(db, d.id, facts.ipv6.as_deref()).await?;
                    let diffs = differences(&plan::diff(&graph, &live));
                    let result = if diffs.is_empty() {
                        "in_sync"
                    } else {
                        "drifted"
                    };
                    (result, diffs, None)
                }
            }
        }
    };
    let row = crate::db::drift_checks::insert_drift(
        db,
        d.id,
        requested_by,
        // Applies run from the draft as it was; the job does not say which version that was.
        None,
        result,
        &serde_json::to_value(&diffs).unwrap_or_default(),
        error.as_deref(),
    )
    .await?;
    // Only people's checks are audited; the panel's own readers would flood the log.
    if !requested_by.starts_with('(') {
        audit::record(
            db,
            requested_by,
            audit::Action::DriftCheck,
            &audit::deployment(d.id),
            serde_json::json!({"result": result, "differences": diffs.len()}),
        )
        .await;
    }
    if result == "drifted" {
        tracing::warn!(deployment = %d.name, differences = diffs.len(), "live state differs from the last apply");
    }
    Ok(row)
}

/// Reads only the applied spec's managed certificate (one list call) and records its status,
/// for the certificate section that polls while Google provisions: a full check every few
/// seconds would read every collection and fill the drift history. A cloud that cannot be
/// read is logged and leaves the stored status as it was; the next poll tries again.
pub async fn read_certificate(
    db: &Db,
    reader: &dyn LiveReader,
    deployment_id: i64,
) -> Result<(), sqlx::Error> {
    let Some(applied) = crate::db::jobs::applied_job(db, deployment_id)
        .await?
        .map(|j| j.spec)
    else {
        return Ok(());
    };
    let Ok(spec) = crate::domain::parse::parse(&applied) else {
        return Ok(());
    };
    if spec.frontend.protocol != Protocol::Https {
        return Ok(());
    }
    let collection = format!("projects/{}/global/sslCertificates", spec.project);
    // Every certificate of the deployment, so one being replaced during a domain change is
    // found the way `live_facts` finds it in a full read.
    let prefix = format!("{}-cert-", spec.name);
    match reader.list(&collection, &prefix).await {
        Ok(listed) => {
            let live: Live = listed.into_iter().map(|(p, v)| (p, Some(v))).collect();
            let facts = live_facts(&spec, &live);
            crate::db::live_facts::set_certificate(
                db,
                deployment_id,
                facts.certificate.as_deref(),
                facts.cert_status.as_deref(),
                &facts.domain_status,
            )
            .await
        }
        Err(e) => {
            tracing::warn!(deployment = deployment_id, error = %e, "reading the certificate");
            Ok(())
        }
    }
}

/// Checks every applied deployment that has no job in progress (a running job changes the live
/// state on purpose), one after the other so the cloud sees one reader at a time.
pub async fn check_all(db: &Db, reader: &dyn LiveReader) -> Result<usize, sqlx::Error> {
    let ids = crate::db::drift_checks::deployments_without_active_job(db).await?;
    let mut n = 0;
    for id in ids {
        match check(db, reader, id, SCHEDULE).await {
            Ok(_) => n += 1,
            Err(CheckError::Db(e)) => return Err(e),
            // Never applied, destroyed, or deleted since the list was read.
            Err(_) => {}
        }
    }
    Ok(n)
}

/// Runs [`check_all`] every `interval` until the task is dropped. The first round waits one
/// interval: at start-up the cloud has just been connected and nothing has changed yet.
pub async fn run_periodic(
    db: Db,
    reader: std::sync::Arc<dyn LiveReader>,
    interval: std::time::Duration,
) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match check_all(&db, reader.as_ref()).await {
            Ok(n) => tracing::info!(deployments = n, "periodic drift check done"),
            Err(e) => tracing::error!(error = %e, "periodic drift check"),
        }
    }
}

/// Who asked when an apply just finished.
pub const AFTER_APPLY: &str = "(after apply)";

/// How often finished applies are looked for.
const AFTER_APPLY_POLL: std::time::Duration = std::time::Duration::from_secs(2);

/// Deployments whose last succeeded apply finished after their live facts were last read (or
/// that were never read): the dashboard's IP and certificate status would be stale.
pub async fn stale_after_apply(db: &Db) -> Result<Vec<i64>, sqlx::Error> {
    crate::db::drift_checks::applied_since_last_check(db).await
}

/// After each apply, reads the live resources once (a drift check by `(after apply)`), so the
/// dashboard shows the new IP and certificate status within seconds. Runs until dropped.
pub async fn run_after_apply(db: Db, reader: std::sync::Arc<dyn LiveReader>) {
    let mut tick = tokio::time::interval(AFTER_APPLY_POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let ids = match stale_after_apply(&db).await {
            Ok(ids) => ids,
            Err(e) => {
                tracing::error!(error = %e, "looking for finished applies");
                continue;
            }
        };
        for id in ids {
            if let Err(e) = check(&db, reader.as_ref(), id, AFTER_APPLY).await {
                tracing::warn!(deployment = id, error = %e, "reading the live state after an apply");
            }
        }
    }
}

/// Starts the background readers: the one after each apply, and the periodic check when
/// `--drift-interval` is not 0. Abort the handles to stop them.
pub fn spawn_periodic(
    db: &Db,
    reader: std::sync::Arc<dyn LiveReader>,
    interval_secs: u64,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = vec![tokio::spawn(run_after_apply(db.clone(), reader.clone()))];
    if interval_secs > 0 {
        tasks.push(tokio::spawn(run_periodic(
            db.clone(),
            reader,
            std::time::Duration::from_secs(interval_secs),
        )));
    }
    tasks
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn seed2() -> Spec {
        crate::domain::parse::parse(include_str!("../tests/data/seeds/seed-002.json")).unwrap()
    }

    #[test]
    fn facts_from_live_resources() {
        let spec = seed2();
        let cert = names::certificate("hello-lb", &spec.frontend.domains);
        let mut live = Live::new();
        live.insert(
            "projects/my-lb-project/global/addresses/hello-lb-ip".into(),
            Some(json!({"name": "hello-lb-ip", "address": "203.0.113.9"})),
        );
        live.insert(
            format!("projects/my-lb-project/global/sslCertificates/{cert}"),
            Some(json!({"name": cert, "managed": {"status": "PROVISIONING",
                "domainStatus": {"hello.example.com": "FAILED_NOT_VISIBLE"}}})),
        );
        live.insert(
            "projects/my-lb-project/global/urlMaps/hello-lb-urlmap".into(),
            None,
        );
        let f = live_facts(&spec, &live);
        assert_eq!(f.ip.as_deref(), Some("203.0.113.9"));
        assert_eq!(f.certificate.as_deref(), Some(cert.as_str()));
        assert_eq!(f.cert_status.as_deref(), Some("PROVISIONING"));
        assert_eq!(f.domain_status["hello.example.com"], "FAILED_NOT_VISIBLE");
    }

    #[test]
    fn ephemeral_ip_comes_from_the_forwarding_rule_and_nothing_live_is_nothing() {
        let mut spec = seed2();
        assert_eq!(
            live_facts(&spec, &Live::new()),
            LiveFacts {
                domain_status: json!({}),
                ..LiveFacts::default()
            }
        );
        spec.frontend.ip = IpKind::Ephemeral;
        let mut live = Live::new();
        live.insert(
            "projects/p/global/forwardingRules/hello-lb-https-fr".into(),
            Some(json!({"IPAddress": "198.51.100.4"})),
        );
        live.insert(
            "projects/p/global/forwardingRules/hello-lb-http-fr".into(),
            Some(json!({"IPAddress": "https://www.googleapis.com/compute/v1/projects/p/global/addresses/x"})),
        );
        assert_eq!(live_facts(&spec, &live).ip.as_deref(), Some("198.51.100.4"));
    }
}
