//! Chained deployments, looked up for the planner: the deployments a spec's backends follow
//! (from the database, with their IP from the cloud), and the deployments that follow one.
//! The rules of what a backend then points at live in [`crate::domain::chain`].

use super::{DeployError, applied_spec};
use crate::db::{self, Db};
use crate::domain::chain::{self, Back};
use crate::domain::names;
use crate::domain::parse;
use crate::domain::plan::{self, ResourceKind};
use crate::domain::spec::{Protocol, Spec};

use super::live::LiveReader;

/// The IP address a deployment's load balancer answers on: its forwarding rule's, read from the
/// cloud (an ephemeral IP exists only there). `None` when the rule is not there.
async fn ip_of(reader: &dyn LiveReader, spec: &Spec) -> Result<Option<String>, DeployError> {
    let rule = match spec.frontend.protocol {
        Protocol::Https => names::https_forwarding_rule(&spec.name),
        Protocol::Http => names::http_forwarding_rule(&spec.name),
    };
    let id = plan::resource_path(&spec.project, &ResourceKind::GlobalForwardingRule, &rule);
    Ok(reader.get(&id).await?.and_then(|r| {
        r.get("IPAddress")
            .and_then(|v| v.as_str())
            .map(str::to_string)
    }))
}

/// Every deployment `spec` follows, as the panel knows it now. A name that is no deployment of
/// the panel is left out (resolving then says so at the field).
pub async fn backs(
    db: &Db,
    reader: &dyn LiveReader,
    spec: &Spec,
) -> Result<Vec<Back>, DeployError> {
    let wanted = chain::backs_of(spec);
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let rows = db::deployments::list(db)
        .await
        .map_err(db::jobs::JobsDbError::from)?;
    let mut out = Vec::new();
    for row in rows
        .iter()
        .filter(|r| wanted.iter().any(|(_, d)| *d == r.name))
    {
        let applied = match applied_spec(db, row.id).await? {
            Some(s) => {
                let ip = ip_of(reader, &s).await?;
                Some((s, ip))
            }
            None => None,
        };
        out.push(Back {
            name: row.name.clone(),
            applied,
        });
    }
    Ok(out)
}

/// Where each backend of `spec` that follows another deployment points now.
pub async fn resolve(
    db: &Db,
    reader: &dyn LiveReader,
    spec: &Spec,
) -> Result<Vec<chain::Hop>, DeployError> {
    let backs = backs(db, reader, spec).await?;
    chain::resolve(spec, &backs).map_err(DeployError::Invalid)
}

/// The deployments (other than `name`) whose draft or applied spec sends traffic to `name`
/// (naming it, or giving the domain or IP it has applied), as `(front, backend)` pairs.
pub async fn fronts(
    db: &Db,
    reader: &dyn LiveReader,
    name: &str,
) -> Result<Vec<(String, String)>, DeployError> {
    let rows = db::deployments::list(db)
        .await
        .map_err(db::jobs::JobsDbError::from)?;
    let (domains, ip) = match rows.iter().find(|r| r.name == name) {
        Some(row) => match applied_spec(db, row.id).await? {
            Some(applied) => {
                let ip = ip_of(reader, &applied).await?;
                (applied.frontend.domains, ip)
            }
            None => (Vec::new(), None),
        },
        None => (Vec::new(), None),
    };
    let reach = chain::Reach {
        name,
        domains: &domains,
        ip: ip.as_deref(),
    };
    let mut specs: Vec<(String, Spec)> = Vec::new();
    for row in rows.iter().filter(|r| r.name != name) {
        if let Ok(s) = parse::parse(&row.spec) {
            specs.push((row.name.clone(), s));
        }
        if let Some(s) = applied_spec(db, row.id).await? {
            specs.push((row.name.clone(), s));
        }
    }
    let mut out: Vec<(String, String)> = chain::fronts_of(&reach, &specs)
        .into_iter()
        .map(|(f, b)| (f.to_string(), b.to_string()))
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}

/// The warning destroying or deleting `name` carries, when other deployments chain to it.
pub async fn destroy_warning(
    db: &Db,
    reader: &dyn LiveReader,
    name: &str,
) -> Result<Option<String>, DeployError> {
    let fronts = fronts(db, reader, name).await?;
    let pairs: Vec<(&str, &str)> = fronts
        .iter()
        .map(|(f, b)| (f.as_str(), b.as_str()))
        .collect();
    Ok(chain::destroy_warning(name, &pairs))
}
