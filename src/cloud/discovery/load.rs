//! Reading a gzipped discovery document into an [`Api`]. The documents are mostly prose
//! (descriptions): they are read into these raw shapes, reduced to what matters, and dropped,
//! so the loaded form stays a small share of the 5 MB of Compute's JSON.

use super::methods::{ApiMethod, Param, ParamKind, ParamLocation, Seg};
use super::schema::{Format, Node, Prop};
use super::{Api, ApiName, Pattern};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::Read;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDoc {
    #[serde(default)]
    service_path: String,
    #[serde(default)]
    parameters: BTreeMap<String, RawParam>,
    #[serde(default)]
    resources: BTreeMap<String, RawResource>,
    #[serde(default)]
    schemas: BTreeMap<String, RawSchema>,
}

#[derive(Deserialize)]
struct RawResource {
    #[serde(default)]
    methods: BTreeMap<String, RawMethod>,
    #[serde(default)]
    resources: BTreeMap<String, RawResource>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMethod {
    id: String,
    http_method: String,
    path: String,
    flat_path: Option<String>,
    #[serde(default)]
    parameters: BTreeMap<String, RawParam>,
    request: Option<RawRef>,
}

#[derive(Deserialize)]
struct RawRef {
    #[serde(rename = "$ref")]
    reference: String,
}

#[derive(Deserialize)]
struct RawParam {
    location: Option<String>,
    #[serde(rename = "type")]
    ty: Option<String>,
    format: Option<String>,
    pattern: Option<String>,
    #[serde(default)]
    repeated: bool,
    #[serde(rename = "enum")]
    enum_values: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSchema {
    #[serde(rename = "type")]
    ty: Option<String>,
    #[serde(rename = "$ref")]
    reference: Option<String>,
    format: Option<String>,
    #[serde(default)]
    description: OutputOnlyNote,
    #[serde(default)]
    read_only: bool,
    properties: Option<BTreeMap<String, RawSchema>>,
    items: Option<Box<RawSchema>>,
    additional_properties: Option<Box<RawSchema>>,
    #[serde(rename = "enum")]
    enum_values: Option<Vec<String>>,
}

pub(super) fn load(name: ApiName, gz: &[u8]) -> Api {
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(gz)
        .read_to_end(&mut text)
        .expect("the embedded discovery document is valid gzip");
    let raw: RawDoc =
        serde_json::from_slice(&text).expect("the embedded discovery document is valid JSON");
    drop(text);
    // Compute's templates are relative to its servicePath; Cloud Run's and Resource Manager's
    // flat paths start at `v2/` (`v3/`) already, and their `path` templates (`v2/{+name}`) do
    // not say which segments exist.
    let (prefix, flat) = match name {
        ApiName::Compute => (raw.service_path.clone(), false),
        ApiName::Run
        | ApiName::ResourceManager
        | ApiName::CertificateManager
        | ApiName::Monitoring => (String::new(), true),
    };
    let mut patterns: Vec<Pattern> = Vec::new();
    let mut methods = Vec::new();
    collect(&raw.resources, &prefix, flat, &mut patterns, &mut methods);
    Api {
        name,
        methods,
        schemas: raw.schemas.into_iter().map(|(k, s)| (k, node(s))).collect(),
        global_params: raw.parameters.into_keys().collect(),
        patterns,
    }
}

fn collect(
    resources: &BTreeMap<String, RawResource>,
    prefix: &str,
    flat: bool,
    patterns: &mut Vec<Pattern>,
    out: &mut Vec<ApiMethod>,
) {
    for r in resources.values() {
        for m in r.methods.values() {
            let template = if flat { m.flat_path.as_deref() } else { None }.unwrap_or(&m.path);
            out.push(method(m, &format!("{prefix}{template}"), patterns));
        }
        collect(&r.resources, prefix, flat, patterns, out);
    }
}

fn method(m: &RawMethod, template: &str, patterns: &mut Vec<Pattern>) -> ApiMethod {
    let segments: Vec<Seg> = template.split('/').map(segment).collect();
    let literal_len = segments.iter().map(Seg::literal_len).sum();
    let params = m
        .parameters
        .iter()
        .map(|(k, p)| (k.clone(), param(p, patterns)))
        .collect();
    ApiMethod {
        id: m.id.clone(),
        verb: m.http_method.clone(),
        segments,
        literal_len,
        params,
        request: m.request.as_ref().map(|r| r.reference.clone()),
    }
}

/// `name`, `{var}`, or `{var}:verb` (Cloud Run's custom methods).
fn segment(s: &str) -> Seg {
    match s.strip_prefix('{').and_then(|r| r.split_once('}')) {
        Some((var, suffix)) => Seg::Var {
            name: var.trim_start_matches('+').to_string(),
            suffix: suffix.to_string(),
        },
        None => Seg::Literal(s.to_string()),
    }
}

fn param(p: &RawParam, patterns: &mut Vec<Pattern>) -> Param {
    let pattern =
        p.pattern
            .as_ref()
            .map(|pat| match patterns.iter().position(|x| x.source == *pat) {
                Some(i) => i,
                None => {
                    patterns.push(Pattern::new(pat));
                    patterns.len() - 1
                }
            });
    Param {
        location: if p.location.as_deref() == Some("path") {
            ParamLocation::Path
        } else {
            ParamLocation::Query
        },
        kind: match (p.ty.as_deref(), p.format.as_deref()) {
            (Some("integer"), f) => ParamKind::Integer(Format::from_discovery(f)),
            (Some("boolean"), _) => ParamKind::Boolean,
            _ => ParamKind::String,
        },
        repeated: p.repeated,
        pattern,
        enum_values: p.enum_values.clone(),
    }
}

/// Whether a description marks its field output only: Compute starts it with `[Output Only]`
/// (or marks the field `readOnly`), Cloud Run with `Output only.`. Read straight from the
/// parser's buffer, so the prose (most of a document) is never kept.
#[derive(Default)]
struct OutputOnlyNote(bool);

impl<'de> Deserialize<'de> for OutputOnlyNote {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = OutputOnlyNote;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a description")
            }
            fn visit_str<E: serde::de::Error>(self, d: &str) -> Result<OutputOnlyNote, E> {
                let d = d.trim_start();
                Ok(OutputOnlyNote(
                    d.starts_with("[Output Only]") || d.starts_with("Output only."),
                ))
            }
        }
        d.deserialize_str(Visitor)
    }
}

fn output_only(s: &RawSchema) -> bool {
    s.read_only || s.description.0
}

fn node(s: RawSchema) -> Node {
    if let Some(r) = s.reference {
        return Node::Ref(r);
    }
    // An `Any` carries its own type; nothing about its fields is known here.
    if s.format.as_deref() == Some("google.protobuf.Any") {
        return Node::Any;
    }
    match s.ty.as_deref() {
        Some("object") | None if s.properties.is_some() || s.additional_properties.is_some() => {
            Node::Object {
                props: s
                    .properties
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, p)| {
                        let output_only = output_only(&p);
                        (
                            k,
                            Prop {
                                node: node(p),
                                output_only,
                            },
                        )
                    })
                    .collect(),
                additional: s.additional_properties.map(|a| Box::new(node(*a))),
            }
        }
        Some("object") => Node::Object {
            props: BTreeMap::new(),
            additional: None,
        },
        Some("array") => Node::Array(Box::new(s.items.map(|i| node(*i)).unwrap_or(Node::Any))),
        Some("string") => Node::Str {
            format: Format::from_discovery(s.format.as_deref()),
            enum_values: s.enum_values,
        },
        Some("integer") => Node::Int(Format::from_discovery(s.format.as_deref())),
        Some("number") => Node::Num(Format::from_discovery(s.format.as_deref())),
        Some("boolean") => Node::Bool,
        _ => Node::Any,
    }
}
