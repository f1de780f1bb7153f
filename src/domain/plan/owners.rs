//! `claim_others`: resources a plan would touch that the panel knows to be another deployment's.
//!
//! The owner marker names a deployment, not which deployment of that name made a resource. Once
//! a deployment is forgotten (taken off the panel, its resources left running), its name is free
//! again, and a new deployment of that name would read the old resources as its own: adopt them,
//! update them to its spec, or delete them as leftovers. The panel keeps a record of what it
//! forgot; this refuses those resources as conflicts, and names the panel's own deployments in
//! the conflicts `diff` found.

use super::diff::{is_owned, marked_owner};
use super::{Conflict, LiveState, Plan};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Another deployment the panel knows of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherDeployment {
    pub name: String,
    pub project: String,
    pub whose: Whose,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Whose {
    /// A deployment of this panel now.
    Panel,
    /// Forgotten by `by` at `at` (RFC 3339), with the resource paths it managed.
    Forgotten {
        by: String,
        at: String,
        resources: Vec<String>,
    },
}

fn parse_time(t: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(t, &Rfc3339).ok()
}

/// `2026-11-23T11:58:11.123Z` → `2026-11-23 11:58 UTC`.
fn short(t: &str) -> String {
    match (t.get(..10), t.get(11..16)) {
        (Some(d), Some(hm)) => format!("{d} {hm} UTC"),
        _ => t.to_string(),
    }
}

/// When the cloud says the resource was made (Compute's `creationTimestamp`, Cloud Run's
/// `createTime`).
fn created(live: &Value) -> Option<OffsetDateTime> {
    ["creationTimestamp", "createTime"]
        .iter()
        .find_map(|k| live.get(*k).and_then(Value::as_str))
        .and_then(parse_time)
}

/// The forgotten deployment of `name` in `project` that made the resource at `path`: the first
/// one forgotten after the resource was created (a later deployment of that name can only have
/// created resources after the earlier one was forgotten). Without a creation time, the newest
/// one whose record lists the path.
fn forgotten_maker<'a>(
    others: &'a [OtherDeployment],
    name: &str,
    project: &str,
    path: &str,
    live: &Value,
) -> Option<&'a OtherDeployment> {
    let candidates = others
        .iter()
        .filter(|o| o.name == name && o.project == project);
    match created(live) {
        Some(made) => candidates
            .filter_map(|o| match &o.whose {
                Whose::Forgotten { at, .. } => Some((parse_time(at)?, o)),
                Whose::Panel => None,
            })
            .filter(|(at, _)| made < *at)
            .min_by_key(|(at, _)| *at)
            .map(|(_, o)| o),
        None => candidates
            .filter(|o| matches!(&o.whose, Whose::Forgotten { resources, .. } if resources.iter().any(|r| r == path)))
            .max_by(|a, b| forgotten_at(a).cmp(forgotten_at(b))),
    }
}

fn forgotten_at(o: &OtherDeployment) -> &str {
    match &o.whose {
        Whose::Forgotten { at, .. } => at,
        Whose::Panel => "",
    }
}

/// The conflict for `path`, which belongs to `other`.
fn conflict(path: &str, other: &OtherDeployment) -> Conflict {
    let name = path.rsplit('/').next().unwrap_or(path);
    let (owner, message) = match &other.whose {
        Whose::Panel => (
            format!("deployment {} of this panel", other.name),
            format!(
                "{name} belongs to deployment {} of this panel; give this deployment another name",
                other.name
            ),
        ),
        Whose::Forgotten { by, at, .. } => (
            format!("deployment {} (forgotten)", other.name),
            format!(
                "{name} belongs to deployment {} (forgotten by {by} on {}, its resources are still running); \
                 leave it, delete those resources in Google Cloud, or give this deployment another name",
                other.name,
                short(at)
            ),
        ),
    };
    Conflict {
        resource: path.to_string(),
        owner,
        message,
    }
}

/// Moves every entry of `plan` whose live resource a forgotten deployment of the same name made
/// into the conflicts (so the plan cannot be applied), and says which deployment of the panel,
/// live or forgotten, owns the resources `diff` already refused.
pub fn claim_others(plan: &mut Plan, live: &LiveState, others: &[OtherDeployment]) {
    let deployment = plan.deployment.clone();
    let project = plan.project.clone();
    let known = |owner: &str, path: &str, value: &Value| -> Option<OtherDeployment> {
        if let Some(o) = others
            .iter()
            .find(|o| o.name == owner && o.whose == Whose::Panel)
        {
            return Some(o.clone());
        }
        forgotten_maker(others, owner, &project, path, value).cloned()
    };
    for c in plan.conflicts.iter_mut() {
        let Some(value) = live.get(&c.resource).cloned().flatten() else {
            continue;
        };
        if let Some(owner) = marked_owner(&value)
            && let Some(other) = known(owner, &c.resource, &value)
        {
            *c = conflict(&c.resource, &other);
        }
    }
    let mut claimed = Vec::new();
    plan.entries.retain(|e| {
        let Some(value) = &e.live else { return true };
        if !is_owned(value, &deployment) {
            return true;
        }
        match forgotten_maker(others, &deployment, &project, &e.resource, value) {
            Some(other) => {
                claimed.push(conflict(&e.resource, other));
                false
            }
            None => true,
        }
    });
    if !claimed.is_empty() {
        plan.conflicts.extend(claimed);
        plan.risks = super::risks::risks(&plan.entries);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::plan::{Action, compile, destroy, diff};
    use crate::domain::spec::Spec;
    use serde_json::json;

    fn spec(name: &str) -> Spec {
        serde_json::from_value(json!({
          "name": name, "project": "p",
          "frontend": { "protocol": "http", "ip": "ephemeral" },
          "backends": [ { "name": "web", "type": "serverless", "service": "s", "regions": ["us-central1"] } ],
          "routing": { "default": { "backend": "web" } }
        }))
        .unwrap()
    }

    /// Every resource of `spec` live as `owner` made it at `created`.
    fn live_of(spec: &Spec, owner: &str, created: Option<&str>) -> LiveState {
        compile(spec)
            .resources
            .into_iter()
            .map(|r| {
                let mut body = r.body.clone();
                body["description"] = json!(crate::domain::names::owner_marker(owner));
                if let Some(t) = created {
                    body["creationTimestamp"] = json!(t);
                }
                (r.id, Some(body))
            })
            .collect()
    }

    fn forgotten(name: &str, at: &str, resources: Vec<String>) -> OtherDeployment {
        OtherDeployment {
            name: name.into(),
            project: "p".into(),
            whose: Whose::Forgotten {
                by: "ann".into(),
                at: at.into(),
                resources,
            },
        }
    }

    #[test]
    fn a_forgotten_deployments_resources_block_a_new_one_of_its_name() {
        let s = spec("hello-lb");
        let graph = compile(&s);
        let live = live_of(&s, "hello-lb", Some("2026-11-01T10:00:00.000-07:00"));
        let mut plan = diff(&graph, &live);
        assert!(plan.conflicts.is_empty() && !plan.entries.is_empty());
        let others = [forgotten(
            "hello-lb",
            "2026-11-23T11:58:11.123Z",
            Vec::new(),
        )];
        claim_others(&mut plan, &live, &others);
        assert!(plan.entries.is_empty(), "nothing of it is touched");
        assert_eq!(plan.conflicts.len(), graph.resources.len());
        let urlmap = plan
            .conflicts
            .iter()
            .find(|c| c.resource.ends_with("/urlMaps/hello-lb-urlmap"))
            .unwrap();
        assert!(
            urlmap.message.starts_with(
                "hello-lb-urlmap belongs to deployment hello-lb (forgotten by ann on 2026-11-23 11:58 UTC, its resources are still running)"
            ),
            "{}",
            urlmap.message
        );
        assert!(plan.is_blocked());

        // A destroy of the new deployment would delete them: refused as well.
        let mut plan = destroy("hello-lb", "p", &live);
        assert!(plan.entries.iter().all(|e| e.action == Action::Delete));
        claim_others(&mut plan, &live, &others);
        assert!(plan.entries.is_empty() && plan.is_blocked());
    }

    #[test]
    fn resources_made_after_the_forget_are_the_new_deployments() {
        let s = spec("hello-lb");
        let live = live_of(&s, "hello-lb", Some("2026-11-24T09:00:00Z"));
        let mut plan = diff(&compile(&s), &live);
        let before = plan.clone();
        claim_others(
            &mut plan,
            &live,
            &[forgotten(
                "hello-lb",
                "2026-11-23T11:58:11.123Z",
                Vec::new(),
            )],
        );
        assert_eq!(plan, before);
    }

    #[test]
    fn without_a_creation_time_the_record_of_paths_decides() {
        let s = spec("hello-lb");
        let live = live_of(&s, "hello-lb", None);
        let urlmap = "projects/p/global/urlMaps/hello-lb-urlmap".to_string();
        let mut plan = diff(&compile(&s), &live);
        let n = plan.entries.len();
        claim_others(
            &mut plan,
            &live,
            &[forgotten(
                "hello-lb",
                "2026-11-23T11:58:11.123Z",
                vec![urlmap.clone()],
            )],
        );
        assert_eq!(plan.entries.len(), n - 1);
        assert_eq!(plan.conflicts.len(), 1);
        assert_eq!(plan.conflicts[0].resource, urlmap);
    }

    #[test]
    fn conflicts_name_the_panels_deployments() {
        // A resource with one of our names whose marker names another deployment.
        let s = spec("hello");
        let mut live = live_of(&s, "hello", None);
        let urlmap = "projects/p/global/urlMaps/hello-urlmap";
        live.insert(
            urlmap.into(),
            Some(json!({"description": "switchyard:deployment=shop"})),
        );
        for (whose, expected) in [
            (
                Whose::Panel,
                "hello-urlmap belongs to deployment shop of this panel",
            ),
            (
                Whose::Forgotten {
                    by: "bob".into(),
                    at: "2026-11-23T11:58:11.123Z".into(),
                    resources: vec![urlmap.into()],
                },
                "hello-urlmap belongs to deployment shop (forgotten by bob on 2026-11-23 11:58 UTC",
            ),
        ] {
            let mut plan = diff(&compile(&s), &live);
            assert_eq!(plan.conflicts.len(), 1);
            let others = [OtherDeployment {
                name: "shop".into(),
                project: "p".into(),
                whose,
            }];
            claim_others(&mut plan, &live, &others);
            assert_eq!(plan.conflicts.len(), 1);
            assert!(
                plan.conflicts[0].message.starts_with(expected),
                "{}",
                plan.conflicts[0].message
            );
        }
    }

    #[test]
    fn a_deployment_whose_name_extends_a_forgotten_one_is_not_blocked() {
        // `hello` is listed with the prefix `hello-`, which also finds `hello-lb`'s resources;
        // neither name's record may claim the other's.
        let hello = spec("hello");
        let mut live = live_of(&hello, "hello", Some("2026-11-01T00:00:00Z"));
        live.extend(live_of(
            &spec("hello-lb"),
            "hello-lb",
            Some("2026-11-01T00:00:00Z"),
        ));
        let mut plan = diff(&compile(&hello), &live);
        let before = plan.clone();
        claim_others(
            &mut plan,
            &live,
            &[forgotten(
                "hello-lb",
                "2026-11-23T11:58:11.123Z",
                Vec::new(),
            )],
        );
        assert_eq!(plan, before);
        let mut plan = diff(&compile(&spec("hello-lb")), &live);
        claim_others(
            &mut plan,
            &live,
            &[forgotten("hello", "2026-11-23T11:58:11.123Z", Vec::new())],
        );
        assert!(plan.conflicts.is_empty());
    }
}
