//! The Google API discovery documents of Compute Engine v1, Cloud Run Admin v2, Cloud Monitoring v1 and Cloud
//! Resource Manager v3, as the one
//! authority on request shapes: which paths and verbs exist, which query parameters a method
//! takes, and what its request body may hold (docs/google-cloud.md, "Sources").
//!
//! The sandbox routes and checks every request with them, and the contract tests check every
//! request the client sends with the same code, so the two cannot drift apart. The documents
//! are the gzipped copies vendored under `tests/data/`, embedded at build time and read on first
//! use: a panel in `--gcp google` mode never reads them.
//!
//! - [`methods`]: a method's path template, verb and parameters; [`Api::find`] matches a
//!   request to its method.
//! - [`schema`]: the request schemas; [`Api::check_body`] lists what Google would refuse in a
//!   body, [`Api::strip_output_only`] drops the fields a server ignores.

mod load;
pub mod methods;
pub mod schema;

pub use methods::{ApiMethod, Matched, Param, ParamKind};
pub use schema::{Strictness, Violation, ViolationKind};

use regex::Regex;
use std::collections::HashMap;
use std::sync::{LazyLock, OnceLock};

/// Which API a document describes: decides the proto package of type names in messages and the
/// name Google gives a request body in field paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiName {
    Compute,
    Run,
    ResourceManager,
    CertificateManager,
    Monitoring,
}

/// One discovery document, reduced to what routing and checking need.
pub struct Api {
    pub name: ApiName,
    /// Method templates start after the host: `compute/v1/projects/{project}/…`, `v2/projects/…`.
    pub methods: Vec<ApiMethod>,
    pub(crate) schemas: HashMap<String, schema::Node>,
    /// Parameters every method takes (`alt`, `prettyPrint`, `fields`, …).
    pub global_params: Vec<String>,
    /// The distinct path-parameter patterns (`Param::pattern` indexes them).
    pub(crate) patterns: Vec<Pattern>,
}

/// A path-parameter pattern, compiled on first use: some of Compute's (`\w[\w.-]{0,254}` in
/// Unicode) compile to megabytes, and the sandbox only ever checks a handful.
pub(crate) struct Pattern {
    pub(crate) source: String,
    compiled: OnceLock<Option<Regex>>,
}

impl Pattern {
    pub(crate) fn new(source: &str) -> Pattern {
        Pattern {
            source: source.to_string(),
            compiled: OnceLock::new(),
        }
    }

    /// Whether `value` matches the whole pattern. A pattern the regex engine cannot hold
    /// within its size limit checks nothing rather than refusing everything.
    pub(crate) fn matches(&self, value: &str) -> bool {
        let re = self.compiled.get_or_init(|| {
            let body = self.source.trim_start_matches('^').trim_end_matches('$');
            Regex::new(&format!("^(?:{body})$")).ok()
        });
        re.as_ref().is_none_or(|re| re.is_match(value))
    }
}

static COMPUTE: LazyLock<Api> = LazyLock::new(|| {
    load::load(
        ApiName::Compute,
        include_bytes!("../../../tests/data/compute-v1.discovery.json.gz"),
    )
});

static RUN: LazyLock<Api> = LazyLock::new(|| {
    load::load(
        ApiName::Run,
        include_bytes!("../../../tests/data/run-v2.discovery.json.gz"),
    )
});

static RESOURCE_MANAGER: LazyLock<Api> = LazyLock::new(|| {
    load::load(
        ApiName::ResourceManager,
        include_bytes!("../../../tests/data/cloudresourcemanager-v3.discovery.json.gz"),
    )
});

static CERTIFICATE_MANAGER: LazyLock<Api> = LazyLock::new(|| {
    load::load(
        ApiName::CertificateManager,
        include_bytes!("../../../tests/data/certificatemanager-v1.discovery.json.gz"),
    )
});

/// Certificate Manager v1 (revision 20260629): DNS authorizations, certificates, maps.
pub fn certificatemanager() -> &'static Api {
    &CERTIFICATE_MANAGER
}

static MONITORING: LazyLock<Api> = LazyLock::new(|| {
    load::load(
        ApiName::Monitoring,
        include_bytes!("../../../tests/data/monitoring-v1.discovery.json.gz"),
    )
});

/// Compute Engine v1 (revision 20261106).
pub fn compute() -> &'static Api {
    &COMPUTE
}

/// Cloud Run Admin v2 (revision 20261031).
pub fn run() -> &'static Api {
    &RUN
}

/// Cloud Resource Manager v3 (revision 20261107): the projects the credentials can see.
pub fn resourcemanager() -> &'static Api {
    &RESOURCE_MANAGER
}

/// Cloud Monitoring v1 (revision 20260903): the PromQL (Prometheus HTTP API) methods.
pub fn monitoring() -> &'static Api {
    &MONITORING
}

impl Api {
    /// The method a request names: same verb, a path that fits the template. When several fit
    /// (`…/operations/{operation}` and `…/{resource}/{name}`), the one with the most literal
    /// text wins, as Google's routing does.
    pub fn find(&self, verb: &str, path: &str) -> Option<Matched<'_>> {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        self.methods
            .iter()
            .filter(|m| m.verb == verb)
            .filter_map(|m| m.matches(&segments).map(|params| (m, params)))
            .max_by_key(|(m, _)| m.literal_len)
            .map(|(method, path_params)| Matched {
                method,
                path_params,
            })
    }

    /// A method by its id (`compute.backendServices.insert`).
    pub fn method(&self, id: &str) -> Option<&ApiMethod> {
        self.methods.iter().find(|m| m.id == id)
    }

    /// What Google calls a request body in field paths: Compute's messages say
    /// `resource.name`; Cloud Run's Service bodies are `service`, and its other bodies (IAM
    /// policies, `wait`) are the request itself, so their fields have no prefix.
    pub fn body_root(&self, request_schema: &str) -> &'static str {
        match (self.name, request_schema) {
            (ApiName::Compute, _) => "resource",
            (ApiName::Run, "GoogleCloudRunV2Service") => "service",
            (
                ApiName::Run
                | ApiName::ResourceManager
                | ApiName::CertificateManager
                | ApiName::Monitoring,
                _,
            ) => "",
        }
    }

    /// The protobuf message a schema stands for, as Google names it in
    /// `Invalid value at '…' (type.googleapis.com/…)`.
    pub(crate) fn message_type(&self, schema: &str) -> String {
        let full = match self.name {
            ApiName::Compute => format!("google.cloud.compute.v1.{schema}"),
            ApiName::Run => [
                ("GoogleCloudRunV2", "google.cloud.run.v2."),
                ("GoogleIamV1", "google.iam.v1."),
                ("GoogleLongrunning", "google.longrunning."),
                ("GoogleRpc", "google.rpc."),
                ("GoogleType", "google.type."),
                (
                    "GoogleDevtoolsCloudbuildV1",
                    "google.devtools.cloudbuild.v1.",
                ),
            ]
            .iter()
            .find_map(|(prefix, package)| {
                schema
                    .strip_prefix(prefix)
                    .map(|rest| format!("{package}{rest}"))
            })
            .unwrap_or_else(|| schema.to_string()),
            ApiName::ResourceManager => format!("google.cloud.resourcemanager.v3.{schema}"),
            ApiName::CertificateManager => {
                format!("google.cloud.certificatemanager.v1.{schema}")
            }
            ApiName::Monitoring => format!("google.monitoring.v1.{schema}"),
        };
        format!("type.googleapis.com/{full}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_documents_load_with_their_methods() {
        let c = compute();
        assert!(c.method("compute.backendServices.insert").is_some());
        assert!(c.methods.len() > 900, "{}", c.methods.len());
        let r = run();
        assert!(r.method("run.projects.locations.operations.list").is_some());
        assert!(c.global_params.iter().any(|p| p == "prettyPrint"));
        let crm = resourcemanager();
        let search = crm.find("GET", "v3/projects:search").unwrap();
        assert_eq!(search.method.id, "cloudresourcemanager.projects.search");
        assert_eq!(
            crm.find("GET", "v3/projects/p").unwrap().method.id,
            "cloudresourcemanager.projects.get"
        );
    }

    #[test]
    fn requests_find_their_method_by_verb_and_path() {
        let c = compute();
        let m = c
            .find("POST", "compute/v1/projects/p/global/backendServices")
            .unwrap();
        assert_eq!(m.method.id, "compute.backendServices.insert");
        assert_eq!(m.param("project"), Some("p"));
        let op = c
            .find("POST", "compute/v1/projects/p/regions/r/operations/o/wait")
            .unwrap();
        assert_eq!(op.method.id, "compute.regionOperations.wait");
        // setUrlMap has no /global/ segment; with one, there is no such method.
        assert_eq!(
            c.find(
                "POST",
                "compute/v1/projects/p/targetHttpsProxies/t/setUrlMap"
            )
            .unwrap()
            .method
            .id,
            "compute.targetHttpsProxies.setUrlMap"
        );
        assert!(
            c.find(
                "POST",
                "compute/v1/projects/p/global/targetHttpsProxies/t/setUrlMap"
            )
            .is_none()
        );
        assert!(
            c.find("PATCH", "compute/v1/projects/p/global/sslCertificates/c")
                .is_none()
        );
        let r = run();
        let iam = r
            .find("GET", "v2/projects/p/locations/r/services/s:getIamPolicy")
            .unwrap();
        assert_eq!(
            iam.method.id,
            "run.projects.locations.services.getIamPolicy"
        );
        assert_eq!(iam.param("servicesId"), Some("s"));
        let get = r
            .find("GET", "v2/projects/p/locations/r/services/s")
            .unwrap();
        assert_eq!(get.method.id, "run.projects.locations.services.get");
    }

    #[test]
    fn type_names_follow_the_proto_packages() {
        assert_eq!(
            compute().message_type("BackendService"),
            "type.googleapis.com/google.cloud.compute.v1.BackendService"
        );
        assert_eq!(
            run().message_type("GoogleCloudRunV2Container"),
            "type.googleapis.com/google.cloud.run.v2.Container"
        );
        assert_eq!(
            run().message_type("GoogleIamV1Policy"),
            "type.googleapis.com/google.iam.v1.Policy"
        );
    }
}
