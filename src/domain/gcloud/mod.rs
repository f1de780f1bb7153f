//! The gcloud commands that build the same load balancer as a spec, for people who want to see,
//! review or run by hand what the panel does. Resource names come from `names`, so the commands
//! and the panel describe the same resources.
//!
//! The commands are made from the compiled plan (`plan::compile`), the very request bodies the
//! job sends, one resource at a time, so the two cannot disagree. Where gcloud has no flags for a
//! field of a body (URL maps with rules, rewrites or splits; redirects; outlier detection) the
//! body itself is written as a YAML file and imported.

mod certificate_manager;
mod compute;
mod run;
mod shell;

use serde::Serialize;
use serde_json::Value;

use super::plan::{self, DesiredGraph, ResourceKind};
use super::spec::Spec;
use shell::sh_quote;
pub use shell::to_yaml;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GcloudFile {
    pub name: String,
    pub content: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GcloudStep {
    /// One line saying what the step does and, where it matters, why it is done this way.
    pub comment: String,
    /// A file the command reads, written just before it.
    pub file: Option<GcloudFile>,
    /// Program and arguments, unquoted.
    pub args: Vec<String>,
    /// The id of the compiled resource whose body the command sends.
    pub resource: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GcloudScript {
    pub steps: Vec<GcloudStep>,
}

impl GcloudStep {
    fn new(comment: impl Into<String>, args: &[&str]) -> Self {
        GcloudStep {
            comment: comment.into(),
            file: None,
            resource: None,
            args: args.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn arg(mut self, a: impl Into<String>) -> Self {
        self.args.push(a.into());
        self
    }

    /// `a` when `cond` holds.
    fn args_if(self, cond: bool, a: impl Into<String>) -> Self {
        if cond { self.arg(a) } else { self }
    }

    fn with_file(mut self, name: &str, content: String) -> Self {
        self.file = Some(GcloudFile {
            name: name.into(),
            content,
        });
        self
    }

    /// The command as one shell line (arguments quoted where needed).
    pub fn command(&self) -> String {
        self.args
            .iter()
            .map(|a| sh_quote(a))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl GcloudScript {
    /// A bash script: comments, heredocs for the files, one command per step with one flag per
    /// line.
    pub fn to_shell(&self) -> String {
        let mut s = String::from("#!/usr/bin/env bash\nset -euo pipefail\n");
        for step in &self.steps {
            s.push_str(&format!("\n# {}\n", step.comment));
            if let Some(f) = &step.file {
                s.push_str(&format!(
                    "cat > {} <<'EOF'\n{}EOF\n",
                    sh_quote(&f.name),
                    f.content
                ));
            }
            let mut line = String::new();
            for (i, a) in step.args.iter().enumerate() {
                if i > 0 && a.starts_with("--") {
                    line.push_str(" \\\n    ");
                } else if i > 0 {
                    line.push(' ');
                }
                line.push_str(&sh_quote(a));
            }
            s.push_str(&line);
            s.push('\n');
        }
        s
    }
}

/// The string at a JSON pointer, empty when absent (bodies come from `compile`, which sets them).
fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The name at the end of a resource path or URL.
fn last_segment(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The commands for a spec (assumed valid): those of its compiled plan.
pub fn commands(spec: &Spec) -> GcloudScript {
    commands_chained(spec, &[])
}

/// The commands for a spec whose backends follow other deployments, resolved to `hops`
/// (`chain::resolve`): those of the plan compiled with them.
pub fn commands_chained(spec: &Spec, hops: &[crate::domain::chain::Hop]) -> GcloudScript {
    from_graph(&plan::compile_chained(spec, hops), spec.canary_region())
}

/// The commands for a compiled plan, in its creation order, after enabling the two APIs a fresh
/// project does not have on.
pub fn from_graph(graph: &DesiredGraph, canary: Option<&str>) -> GcloudScript {
    let p = graph.project.as_str();
    let certificate_manager = graph
        .resources
        .iter()
        .any(|r| r.kind.is_certificate_manager());
    let mut steps = vec![
        GcloudStep::new(
            if certificate_manager {
                "A fresh project has none of these APIs on"
            } else {
                "A fresh project has neither API on"
            },
            &[
                "gcloud",
                "services",
                "enable",
                "compute.googleapis.com",
                "run.googleapis.com",
            ],
        )
        .args_if(certificate_manager, "certificatemanager.googleapis.com")
        .arg(format!("--project={p}")),
    ];
    for r in &graph.resources {
        // Each resource in its own project: a cross-project backend's are not the graph's.
        let p = r.id.split('/').nth(1).unwrap_or(p);
        let mut made = match &r.kind {
            ResourceKind::RunService { region } => {
                vec![run::deploy(r, region, Some(region.as_str()) == canary, p)]
            }
            k if k.is_certificate_manager() => certificate_manager::steps(r, p),
            _ => compute::steps(r, p),
        };
        for s in &mut made {
            s.resource = Some(r.id.clone());
        }
        steps.extend(made);
    }
    GcloudScript { steps }
}

#[cfg(test)]
mod tests;
