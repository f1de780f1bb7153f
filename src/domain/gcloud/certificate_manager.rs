//! Certificate Manager resources: `gcloud certificate-manager` has flags for every field the
//! panel sets, so each body is one create command (location `global`, gcloud's default).

use serde_json::Value;

use super::{GcloudStep, last_segment, str_at};
use crate::domain::plan::{DesiredResource, ResourceKind};

fn create(r: &DesiredResource, comment: String, group: &[&str], p: &str) -> GcloudStep {
    let mut args = vec!["gcloud", "certificate-manager"];
    args.extend_from_slice(group);
    args.push("create");
    GcloudStep::new(comment, &args)
        .arg(&r.name)
        .arg(format!("--description={}", str_at(&r.body, "/description")))
        .arg(format!("--project={p}"))
}

fn names(v: &Value) -> Vec<&str> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(last_segment)
        .collect()
}

pub(super) fn steps(r: &DesiredResource, p: &str) -> Vec<GcloudStep> {
    let b = &r.body;
    match &r.kind {
        ResourceKind::DnsAuthorization => vec![
            create(
                r,
                format!(
                    "DNS authorization for {} (publish the CNAME record it shows: `gcloud certificate-manager dns-authorizations describe {}`)",
                    str_at(b, "/domain"),
                    r.name
                ),
                &["dns-authorizations"],
                p,
            )
            .arg(format!("--domain={}", str_at(b, "/domain"))),
        ],
        ResourceKind::ManagedCertificate => vec![
            create(
                r,
                "Google-managed certificate, authorised by DNS (ACTIVE once the CNAME resolves, wherever the domain points)".into(),
                &["certificates"],
                p,
            )
            .arg(format!("--domains={}", names(&b["managed"]["domains"]).join(",")))
            .arg(format!(
                "--dns-authorizations={}",
                names(&b["managed"]["dnsAuthorizations"]).join(",")
            )),
        ],
        ResourceKind::CertificateMap => vec![create(
            r,
            "Certificate map: the HTTPS proxy serves its certificates by SNI".into(),
            &["maps"],
            p,
        )],
        ResourceKind::CertificateMapEntry { map } => {
            let step = create(r, String::new(), &["maps", "entries"], p)
                .arg(format!("--map={map}"))
                .arg(format!("--certificates={}", names(&b["certificates"]).join(",")));
            let step = match b["hostname"].as_str() {
                Some(host) => GcloudStep {
                    comment: format!("Map entry: {host} is served its certificate"),
                    ..step.arg(format!("--hostname={host}"))
                },
                None => GcloudStep {
                    comment: "Primary map entry: for clients that send no SNI".into(),
                    ..step.arg("--set-primary")
                },
            };
            vec![step]
        }
        _ => Vec::new(),
    }
}
