//! Request schemas and the check of a JSON body against them, with the messages Google's JSON
//! front end answers (docs/google-cloud.md §10): an unknown field, a value of the wrong JSON
//! type, a string outside an enum or not in its format. Fields described as output only are
//! accepted (a client may send back what it read) and can be stripped before a body is stored.

use super::Api;
use base64::Engine;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// A schema, reduced to what a check needs.
#[derive(Debug)]
pub(crate) enum Node {
    /// A named schema (`BackendService`).
    Ref(String),
    Object {
        props: BTreeMap<String, Prop>,
        /// The value schema of a map (`labels`).
        additional: Option<Box<Node>>,
    },
    Array(Box<Node>),
    Str {
        format: Format,
        enum_values: Option<Vec<String>>,
    },
    Int(Format),
    Num(Format),
    Bool,
    Any,
}

#[derive(Debug)]
pub(crate) struct Prop {
    pub(crate) node: Node,
    pub(crate) output_only: bool,
}

/// A discovery `format`: how a string or number is read (int64 as a decimal string, a
/// duration as `"300s"`, bytes as base64).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    None,
    Int32,
    Uint32,
    Int64,
    Uint64,
    Float,
    Double,
    Byte,
    DateTime,
    Duration,
    FieldMask,
}

impl Format {
    pub(crate) fn from_discovery(f: Option<&str>) -> Format {
        match f {
            Some("int32") => Format::Int32,
            Some("uint32") => Format::Uint32,
            Some("int64") => Format::Int64,
            Some("uint64") => Format::Uint64,
            Some("float") => Format::Float,
            Some("double") => Format::Double,
            Some("byte") => Format::Byte,
            Some("google-datetime") => Format::DateTime,
            Some("google-duration") => Format::Duration,
            Some("google-fieldmask") => Format::FieldMask,
            _ => Format::None,
        }
    }

    /// The protobuf type Google names in `Invalid value at '…' (TYPE_…)`.
    pub(crate) fn type_label(self) -> &'static str {
        match self {
            Format::Int32 => "TYPE_INT32",
            Format::Uint32 => "TYPE_UINT32",
            Format::Int64 => "TYPE_INT64",
            Format::Uint64 => "TYPE_UINT64",
            Format::Float => "TYPE_FLOAT",
            Format::Double => "TYPE_DOUBLE",
            Format::Byte => "TYPE_BYTES",
            Format::DateTime => "type.googleapis.com/google.protobuf.Timestamp",
            Format::Duration => "type.googleapis.com/google.protobuf.Duration",
            Format::FieldMask => "type.googleapis.com/google.protobuf.FieldMask",
            Format::None => "TYPE_STRING",
        }
    }

    fn range(self) -> (i128, i128) {
        match self {
            Format::Uint32 => (0, u32::MAX as i128),
            Format::Int64 => (i64::MIN as i128, i64::MAX as i128),
            Format::Uint64 => (0, u64::MAX as i128),
            _ => (i32::MIN as i128, i32::MAX as i128),
        }
    }

    /// A decimal integer in this format's range, written as a string.
    pub(crate) fn integer_in_range_str(self, s: &str) -> bool {
        let (lo, hi) = self.range();
        s.parse::<i128>().is_ok_and(|n| (lo..=hi).contains(&n))
    }

    fn integer_in_range(self, v: &Value) -> bool {
        let (lo, hi) = self.range();
        let n = match v {
            Value::Number(n) => n
                .as_i64()
                .map(i128::from)
                .or_else(|| n.as_u64().map(i128::from))
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i128)),
            _ => None,
        };
        n.is_some_and(|n| (lo..=hi).contains(&n))
    }
}

/// How forgiving the check is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strictness {
    /// What Google's proto3 JSON reader accepts: an int64 as a string or a number, an int32 or
    /// a float as a number or a numeric string. The sandbox checks with this.
    Google,
    /// The canonical proto3 JSON form only (int64 as a string, int32 and floats as numbers):
    /// what the panel's client must send, checked by the contract tests.
    Canonical,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViolationKind {
    UnknownField,
    WrongType,
    NotInEnum,
    BadFormat,
}

/// One problem in a body: the field at fault (`resource.enableCDN`) and Google's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub field: String,
    pub kind: ViolationKind,
    pub message: String,
}

static DURATION: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"^-?[0-9]+(\.[0-9]{1,9})?s$").expect("valid regex"));

impl Api {
    /// Every problem Google would refuse `body` for, as a `schema` (`BackendService`) under the
    /// field-path root `root` (`resource`, or `""` for a request whose fields stand alone).
    pub fn check_body(
        &self,
        schema: &str,
        root: &str,
        body: &Value,
        strictness: Strictness,
    ) -> Vec<Violation> {
        let mut c = Checker {
            api: self,
            strictness,
            out: Vec::new(),
        };
        c.check(&Node::Ref(schema.to_string()), body, root, schema, "");
        c.out
    }

    /// Removes the fields a server ignores (output only) from `body`, at every depth.
    pub fn strip_output_only(&self, schema: &str, body: &mut Value) {
        self.strip(&Node::Ref(schema.to_string()), body);
    }

    fn strip(&self, node: &Node, value: &mut Value) {
        match (node, value) {
            (Node::Ref(name), v) => {
                if let Some(n) = self.schemas.get(name) {
                    self.strip(n, v);
                }
            }
            (Node::Object { props, additional }, Value::Object(obj)) => {
                obj.retain(|k, _| props.get(k).is_none_or(|p| !p.output_only));
                for (k, v) in obj.iter_mut() {
                    match (props.get(k), additional) {
                        (Some(p), _) => self.strip(&p.node, v),
                        (None, Some(a)) => self.strip(a, v),
                        (None, None) => {}
                    }
                }
            }
            (Node::Array(item), Value::Array(items)) => {
                for v in items {
                    self.strip(item, v);
                }
            }
            _ => {}
        }
    }
}

struct Checker<'a> {
    api: &'a Api,
    strictness: Strictness,
    out: Vec<Violation>,
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// The value as Google quotes it after the type: strings in quotes, anything else as JSON.
fn quoted(v: &Value) -> String {
    v.to_string()
}

fn pascal(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

impl Checker<'_> {
    fn push(&mut self, field: &str, kind: ViolationKind, message: String) {
        self.out.push(Violation {
            field: field.to_string(),
            kind,
            message,
        });
    }

    fn wrong(&mut self, path: &str, label: &str, v: &Value) {
        let shown = if v.is_object() {
            "Starting an object on a scalar field".to_string()
        } else {
            quoted(v)
        };
        self.push(
            path,
            ViolationKind::WrongType,
            format!("Invalid value at '{path}' ({label}), {shown}"),
        );
    }

    fn not_repeating(&mut self, path: &str) {
        let (parent, leaf) = path.rsplit_once('.').unwrap_or(("", path));
        let at = if parent.is_empty() {
            String::new()
        } else {
            format!(" at '{parent}'")
        };
        self.push(
            path,
            ViolationKind::WrongType,
            format!(
                "Invalid JSON payload received. Unknown name \"{leaf}\"{at}: Proto field is not repeating, cannot start list."
            ),
        );
    }

    /// The label of what `node` expects, for messages about a value that is not it.
    fn label(&self, node: &Node, owner: &str, prop: &str) -> String {
        match node {
            Node::Ref(name) => self.api.message_type(name),
            Node::Str {
                enum_values: Some(_),
                ..
            } => format!("{}.{}", self.api.message_type(owner), pascal(prop)),
            Node::Str { format, .. } | Node::Int(format) | Node::Num(format) => match format {
                Format::None if matches!(node, Node::Int(_)) => "TYPE_INT32",
                Format::None if matches!(node, Node::Num(_)) => "TYPE_DOUBLE",
                f => f.type_label(),
            }
            .to_string(),
            Node::Bool => "TYPE_BOOL".into(),
            Node::Array(item) => self.label(item, owner, prop),
            Node::Object { .. } => {
                format!("{}.{}Entry", self.api.message_type(owner), pascal(prop))
            }
            Node::Any => "type.googleapis.com/google.protobuf.Value".into(),
        }
    }

    /// `owner` is the schema whose property this is and `prop` its name, for enum type names.
    fn check(&mut self, node: &Node, v: &Value, path: &str, owner: &str, prop: &str) {
        // A null is an absent field in proto3 JSON (and clears it in a merge patch).
        if v.is_null() {
            return;
        }
        match node {
            Node::Ref(name) => match self.api.schemas.get(name) {
                Some(n @ Node::Object { .. }) => {
                    if v.is_array() {
                        return self.not_repeating(path);
                    }
                    if !v.is_object() {
                        let label = self.api.message_type(name);
                        return self.wrong(path, &label, v);
                    }
                    self.check(n, v, path, name, prop);
                }
                Some(n) => self.check(n, v, path, owner, prop),
                None => {}
            },
            Node::Object { props, additional } => {
                let Some(obj) = v.as_object() else {
                    if v.is_array() {
                        return self.not_repeating(path);
                    }
                    let label = self.label(node, owner, prop);
                    return self.wrong(path, &label, v);
                };
                for (k, item) in obj {
                    let field = join(path, k);
                    match (props.get(k), additional) {
                        (Some(p), _) => self.check(&p.node, item, &field, owner, k),
                        (None, Some(a)) => self.check(a, item, &field, owner, prop),
                        (None, None) => {
                            let at = if path.is_empty() {
                                String::new()
                            } else {
                                format!(" at '{path}'")
                            };
                            self.push(
                                &field,
                                ViolationKind::UnknownField,
                                format!(
                                    "Invalid JSON payload received. Unknown name \"{k}\"{at}: Cannot find field."
                                ),
                            );
                        }
                    }
                }
            }
            Node::Array(item) => match v.as_array() {
                Some(items) => {
                    for (i, x) in items.iter().enumerate() {
                        self.check(item, x, &format!("{path}[{i}]"), owner, prop);
                    }
                }
                None => {
                    let label = self.label(item, owner, prop);
                    self.wrong(path, &label, v);
                }
            },
            Node::Str {
                format,
                enum_values,
            } => self.check_string(node, *format, enum_values.as_deref(), v, path, owner, prop),
            Node::Int(format) => {
                let f = if *format == Format::None {
                    Format::Int32
                } else {
                    *format
                };
                let ok = match (self.strictness, v) {
                    (_, Value::Number(_)) => f.integer_in_range(v),
                    (Strictness::Google, Value::String(s)) => f.integer_in_range_str(s),
                    _ => false,
                };
                if v.is_array() {
                    self.not_repeating(path);
                } else if !ok {
                    self.wrong(path, f.type_label(), v);
                }
            }
            Node::Num(format) => {
                let label = if *format == Format::Float {
                    "TYPE_FLOAT"
                } else {
                    "TYPE_DOUBLE"
                };
                let ok = match (self.strictness, v) {
                    (_, Value::Number(_)) => true,
                    (Strictness::Google, Value::String(s)) => {
                        s.parse::<f64>().is_ok()
                            || ["NaN", "Infinity", "-Infinity"].contains(&s.as_str())
                    }
                    _ => false,
                };
                if v.is_array() {
                    self.not_repeating(path);
                } else if !ok {
                    self.wrong(path, label, v);
                }
            }
            Node::Bool => {
                if v.is_array() {
                    self.not_repeating(path);
                } else if !v.is_boolean() {
                    self.wrong(path, "TYPE_BOOL", v);
                }
            }
            Node::Any => {}
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn check_string(
        &mut self,
        node: &Node,
        format: Format,
        enum_values: Option<&[String]>,
        v: &Value,
        path: &str,
        owner: &str,
        prop: &str,
    ) {
        if v.is_array() {
            return self.not_repeating(path);
        }
        // int64 and uint64 travel as strings; Google also takes a JSON number for them.
        if matches!(format, Format::Int64 | Format::Uint64) {
            let ok = match (self.strictness, v) {
                (_, Value::String(s)) => format.integer_in_range_str(s),
                (Strictness::Google, Value::Number(_)) => format.integer_in_range(v),
                _ => false,
            };
            if !ok {
                self.wrong(path, format.type_label(), v);
            }
            return;
        }
        let Some(s) = v.as_str() else {
            let label = self.label(node, owner, prop);
            return self.wrong(path, &label, v);
        };
        if let Some(allowed) = enum_values {
            if !allowed.iter().any(|a| a == s) {
                let label = self.label(node, owner, prop);
                self.push(
                    path,
                    ViolationKind::NotInEnum,
                    format!("Invalid value at '{path}' ({label}), {}", quoted(v)),
                );
            }
            return;
        }
        let ok = match format {
            Format::Byte => {
                // Standard or URL-safe alphabet, padded or not, as proto3 JSON readers take.
                use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
                let config = GeneralPurposeConfig::new()
                    .with_decode_allow_trailing_bits(true)
                    .with_decode_padding_mode(DecodePaddingMode::Indifferent);
                GeneralPurpose::new(&base64::alphabet::STANDARD, config)
                    .decode(s)
                    .is_ok()
                    || GeneralPurpose::new(&base64::alphabet::URL_SAFE, config)
                        .decode(s)
                        .is_ok()
            }
            Format::DateTime => {
                time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                    .is_ok()
            }
            Format::Duration => DURATION.is_match(s),
            _ => true,
        };
        if !ok {
            self.push(
                path,
                ViolationKind::BadFormat,
                format!(
                    "Invalid value at '{path}' ({}), {}",
                    format.type_label(),
                    quoted(v)
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::cloud::discovery::{Strictness, ViolationKind, compute, run};
    use serde_json::json;

    fn problems(body: serde_json::Value) -> Vec<String> {
        compute()
            .check_body("BackendService", "resource", &body, Strictness::Google)
            .into_iter()
            .map(|v| v.message)
            .collect()
    }

    #[test]
    fn unknown_fields_are_named_at_their_parent() {
        assert_eq!(
            problems(json!({"name": "b", "enableCdn": true})),
            [
                "Invalid JSON payload received. Unknown name \"enableCdn\" at 'resource': Cannot find field."
            ]
        );
        assert_eq!(
            problems(json!({"backends": [{"group": "g", "weight": 1}]})),
            [
                "Invalid JSON payload received. Unknown name \"weight\" at 'resource.backends[0]': Cannot find field."
            ]
        );
    }

    #[test]
    fn wrong_types_name_the_field_and_the_type() {
        assert_eq!(
            problems(json!({"enableCDN": "yes"})),
            ["Invalid value at 'resource.enableCDN' (TYPE_BOOL), \"yes\""]
        );
        assert_eq!(
            problems(json!({"timeoutSec": 1.5})),
            ["Invalid value at 'resource.timeoutSec' (TYPE_INT32), 1.5"]
        );
        assert_eq!(
            problems(json!({"enableCDN": [true]})),
            [
                "Invalid JSON payload received. Unknown name \"enableCDN\" at 'resource': Proto field is not repeating, cannot start list."
            ]
        );
        assert_eq!(
            problems(json!({"cdnPolicy": "on"})),
            [
                "Invalid value at 'resource.cdnPolicy' (type.googleapis.com/google.cloud.compute.v1.BackendServiceCdnPolicy), \"on\""
            ]
        );
        assert_eq!(
            problems(json!({"name": {"a": 1}})),
            [
                "Invalid value at 'resource.name' (TYPE_STRING), Starting an object on a scalar field"
            ]
        );
    }

    #[test]
    fn enums_and_formats_are_checked() {
        assert_eq!(
            problems(json!({"loadBalancingScheme": "MANAGED"})),
            [
                "Invalid value at 'resource.loadBalancingScheme' (type.googleapis.com/google.cloud.compute.v1.BackendService.LoadBalancingScheme), \"MANAGED\""
            ]
        );
        assert_eq!(
            problems(json!({"fingerprint": "not base64!"})),
            ["Invalid value at 'resource.fingerprint' (TYPE_BYTES), \"not base64!\""]
        );
        let v = run().check_body(
            "GoogleCloudRunV2Service",
            "service",
            &json!({"template": {"timeout": "5m"}}),
            Strictness::Google,
        );
        assert_eq!(v[0].kind, ViolationKind::BadFormat);
        assert_eq!(
            v[0].message,
            "Invalid value at 'service.template.timeout' (type.googleapis.com/google.protobuf.Duration), \"5m\""
        );
    }

    #[test]
    fn google_reads_int64_as_number_or_string_canonical_only_as_string() {
        let body = json!({"outlierDetection": {"interval": {"seconds": 1}}});
        assert!(problems(body.clone()).is_empty());
        let canonical =
            compute().check_body("BackendService", "resource", &body, Strictness::Canonical);
        assert_eq!(
            canonical[0].message,
            "Invalid value at 'resource.outlierDetection.interval.seconds' (TYPE_INT64), 1"
        );
        assert!(problems(json!({"timeoutSec": "30"})).is_empty());
    }

    #[test]
    fn output_only_fields_are_accepted_and_stripped() {
        let mut body = json!({"name": "b", "id": "12", "kind": "compute#backendService",
            "selfLink": "x", "usedBy": [{"reference": "u"}], "creationTimestamp": "t",
            "backends": [{"group": "g"}]});
        assert!(problems(body.clone()).is_empty());
        compute().strip_output_only("BackendService", &mut body);
        assert_eq!(body, json!({"name": "b", "backends": [{"group": "g"}]}));
    }

    #[test]
    fn nulls_are_absent_fields() {
        assert!(problems(json!({"cdnPolicy": null, "backends": null})).is_empty());
    }
}
