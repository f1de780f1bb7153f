//! Environment values are secrets to viewers. Editors and admins, who edit them, see them;
//! anyone else sees each variable's name and that its value is hidden. A Secret Manager
//! reference (the secret's id and version) is not a secret, only where one is kept, and is
//! shown to everyone.
//!
//! The spec leaves the server in several forms, and each has its function here: the typed
//! services (the wizard's pages and its gcloud commands), a stored document (API answers, the
//! export, the versions page) and the `env` field of plan and drift changes. The edge picks
//! [`EnvValues`] from who is asking and passes every outgoing spec through it.
//!
//! In JSON a hidden variable is `{"name": "DB_PASS", "hidden": true}`: no `value` member and a
//! member the spec does not have, so a viewer's copy sent back (by a script that read it with a
//! viewer's token and writes with an editor's) is refused naming the field rather than saved
//! with the value lost (`parse` says why). In text it is `DB_PASS=(hidden)`.

use serde_json::{Map, Value, json};

use super::spec::Service;

/// What a hidden value reads as in text (the wizard, gcloud commands).
pub const HIDDEN: &str = "(hidden)";

/// Whether the reader may see plain environment values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvValues {
    Shown,
    Hidden,
}

impl EnvValues {
    /// Services as the reader may see them: each plain value replaced by [`HIDDEN`].
    pub fn services(self, services: &mut [Service]) {
        if self == EnvValues::Shown {
            return;
        }
        for e in services.iter_mut().flat_map(|s| s.env.iter_mut()) {
            if e.value.is_some() {
                e.value = Some(HIDDEN.to_string());
            }
        }
    }

    /// A stored spec or draft document as the reader may see it. The document is whatever was
    /// stored, so every shape is handled: one that is not a JSON object at all (a hand-edited
    /// database) is not shown to someone who may not see values.
    pub fn document(self, doc: &mut Value) {
        if self == EnvValues::Shown {
            return;
        }
        let Some(top) = doc.as_object_mut() else {
            *doc = json!(format!("{HIDDEN}: the stored spec is not a JSON object"));
            return;
        };
        let Some(services) = top.get_mut("services").and_then(Value::as_array_mut) else {
            return;
        };
        for env in services.iter_mut().filter_map(|s| s.get_mut("env")) {
            hide_env(env);
        }
    }

    /// One side (`live` or `desired`) of a change of `field`. Only Cloud Run's `env` holds
    /// values; the planner gives it in the spec's own `{name, value}` terms.
    pub fn change(self, field: &str, value: &mut Value) {
        if self == EnvValues::Hidden && field == "env" {
            hide_env(value);
        }
    }

    /// The plan JSON of the API (`actions[].diff.changes[]`).
    pub fn plan(self, plan: &mut Value) {
        if self == EnvValues::Shown {
            return;
        }
        let actions = plan.get_mut("actions").and_then(Value::as_array_mut);
        for a in actions.into_iter().flatten() {
            let changes = a.pointer_mut("/diff/changes").and_then(Value::as_array_mut);
            for c in changes.into_iter().flatten() {
                let field = c["field"].as_str().unwrap_or_default().to_string();
                for side in ["live", "desired"] {
                    if let Some(v) = c.get_mut(side) {
                        self.change(&field, v);
                    }
                }
            }
        }
    }
}

/// `env` in any shape: the map form becomes the list form (a map's values are all plain).
fn hide_env(env: &mut Value) {
    *env = match std::mem::take(env) {
        Value::Null => Value::Null,
        Value::Object(map) => Value::Array(
            map.into_iter()
                .map(|(name, _)| json!({ "name": name, "hidden": true }))
                .collect(),
        ),
        Value::Array(entries) => Value::Array(entries.into_iter().map(hide_entry).collect()),
        _ => json!(HIDDEN),
    };
}

/// Keeps what names the variable and where its value comes from; anything else may be a value.
fn hide_entry(entry: Value) -> Value {
    let Value::Object(mut m) = entry else {
        return json!({ "hidden": true });
    };
    let had_value = m.contains_key("value");
    m.retain(|k, _| matches!(k.as_str(), "name" | "secret" | "version"));
    if had_value || !m.contains_key("secret") {
        m.insert("hidden".into(), Value::Bool(true));
    }
    let mut out = Map::new();
    // `name` first, so the entry reads as it did.
    for k in ["name", "secret", "version", "hidden"] {
        if let Some(v) = m.remove(k) {
            out.insert(k.into(), v);
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::spec::EnvVar;

    const SECRET: &str = "s3cr3t-VALUE";

    #[test]
    fn a_document_keeps_names_and_references_and_hides_values() {
        let original = json!({
            "name": "shop",
            "services": [
                { "name": "a", "env": [
                    { "name": "DB_PASS", "value": SECRET },
                    { "name": "API_KEY", "secret": "api-key", "version": "3" },
                    { "name": "BOTH", "value": SECRET, "secret": "x" },
                    { "name": "ODD", "valueSource": SECRET },
                    SECRET
                ] },
                { "name": "b", "env": { "MODE": SECRET } },
                { "name": "c" }
            ]
        });
        let mut doc = original.clone();
        EnvValues::Shown.document(&mut doc);
        assert_eq!(doc, original, "editors get the document as stored");
        EnvValues::Hidden.document(&mut doc);
        assert!(!doc.to_string().contains(SECRET), "{doc}");
        assert_eq!(
            doc["services"][0]["env"],
            json!([
                { "name": "DB_PASS", "hidden": true },
                { "name": "API_KEY", "secret": "api-key", "version": "3" },
                { "name": "BOTH", "secret": "x", "hidden": true },
                { "name": "ODD", "hidden": true },
                { "hidden": true }
            ])
        );
        assert_eq!(
            doc["services"][1]["env"],
            json!([{ "name": "MODE", "hidden": true }])
        );
        assert_eq!(doc["services"][2], json!({ "name": "c" }));
        // A viewer's copy does not go back in as a spec: the value would be lost.
        let mut spec = crate::domain::parse::tests::base();
        spec["services"] = json!([{ "name": "my-app", "image": "gcr.io/p/app:v1",
            "regions": ["us-central1"], "env": [{ "name": "DB_PASS", "value": SECRET }] }]);
        EnvValues::Hidden.document(&mut spec);
        let e = crate::domain::parse::parse(spec.to_string()).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("services[0].env[0].hidden"));
        // A document that is not an object is not shown at all.
        let mut text = json!(format!("{{not json {SECRET}"));
        EnvValues::Hidden.document(&mut text);
        assert!(!text.to_string().contains(SECRET));
    }

    #[test]
    fn typed_services_read_hidden_in_text() {
        let mut services: Vec<Service> = serde_json::from_value(json!([{
            "name": "a", "image": "gcr.io/p/app:v1", "regions": ["us-central1"],
            "env": [{ "name": "DB_PASS", "value": SECRET },
                    { "name": "API_KEY", "secret": "api-key", "version": "latest" }]
        }]))
        .unwrap();
        EnvValues::Shown.services(&mut services);
        assert_eq!(services[0].env[0].value.as_deref(), Some(SECRET));
        EnvValues::Hidden.services(&mut services);
        assert_eq!(
            services[0].env,
            vec![
                EnvVar::plain("DB_PASS", HIDDEN),
                EnvVar::from_secret("API_KEY", "api-key", "latest")
            ]
        );
    }

    #[test]
    fn plan_changes_hide_env_values_only() {
        let mut plan = json!({ "actions": [{ "diff": { "changes": [
            { "field": "env",
              "live": [{ "name": "DB_PASS", "value": SECRET }],
              "desired": [{ "name": "DB_PASS", "secret": "db-pass", "version": "latest" }] },
            { "field": "image", "live": "img:1", "desired": "img:2" }
        ] } }] });
        EnvValues::Hidden.plan(&mut plan);
        let changes = &plan["actions"][0]["diff"]["changes"];
        assert_eq!(
            changes[0]["live"],
            json!([{ "name": "DB_PASS", "hidden": true }])
        );
        assert_eq!(
            changes[0]["desired"],
            json!([{ "name": "DB_PASS", "secret": "db-pass", "version": "latest" }])
        );
        assert_eq!(changes[1]["desired"], "img:2");
        // Changes stored before values were kept as entries (`NAME=value` strings).
        let mut old = json!(["DB_PASS=s3cr3t-VALUE"]);
        EnvValues::Hidden.change("env", &mut old);
        assert_eq!(old, json!([{ "hidden": true }]));
    }
}
