//! A discovery method: its verb, path template and parameters, and the checks Google makes on
//! a request's path and query before it looks at the body.

use super::Api;
use super::schema::Format;
use std::collections::BTreeMap;

/// One REST method (`compute.backendServices.insert`).
#[derive(Debug)]
pub struct ApiMethod {
    pub id: String,
    /// `GET`, `POST`, `PATCH`, `PUT`, `DELETE`.
    pub verb: String,
    pub(crate) segments: Vec<Seg>,
    /// How much of the template is literal text; the most literal match wins.
    pub(crate) literal_len: usize,
    pub params: BTreeMap<String, Param>,
    /// The request schema (`BackendService`), when the method takes a body.
    pub request: Option<String>,
}

/// One `/`-separated piece of a path template.
#[derive(Debug)]
pub(crate) enum Seg {
    Literal(String),
    /// `{name}`, possibly followed by literal text such as `:wait`.
    Var {
        name: String,
        suffix: String,
    },
}

impl Seg {
    pub(crate) fn literal_len(&self) -> usize {
        match self {
            Seg::Literal(s) => s.len(),
            Seg::Var { suffix, .. } => suffix.len(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamLocation {
    Path,
    Query,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    String,
    Integer(Format),
    Boolean,
}

#[derive(Debug)]
pub struct Param {
    pub location: ParamLocation,
    pub kind: ParamKind,
    pub repeated: bool,
    /// Index into [`Api::patterns`] of the regex a path value must match.
    pub(crate) pattern: Option<usize>,
    pub enum_values: Option<Vec<String>>,
}

/// A request matched to its method, with the path's variables.
#[derive(Debug)]
pub struct Matched<'a> {
    pub method: &'a ApiMethod,
    /// Template variable → decoded value, in path order.
    pub path_params: Vec<(String, String)>,
}

impl Matched<'_> {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.path_params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Why Google refuses a request's path or query before reading its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryProblem {
    /// Compute's `invalidParameter`: a path value that does not match the parameter's pattern.
    PathPattern { value: String, pattern: String },
    /// A query parameter the method does not declare.
    Unknown { name: String },
    /// A query value of the wrong type (`maxResults=ten`), or outside the parameter's enum.
    Invalid {
        name: String,
        type_label: String,
        value: String,
    },
}

impl QueryProblem {
    /// Google's wording (docs/google-cloud.md §10).
    pub fn message(&self) -> String {
        match self {
            QueryProblem::PathPattern { value, pattern } => format!(
                "Invalid value '{value}'. Values must match the following regular expression: '{pattern}'"
            ),
            QueryProblem::Unknown { name } => format!(
                "Invalid JSON payload received. Unknown name \"{name}\": Cannot bind query parameter. Field '{name}' could not be found in request message."
            ),
            QueryProblem::Invalid {
                name,
                type_label,
                value,
            } => format!("Invalid value at '{name}' ({type_label}), \"{value}\""),
        }
    }
}

impl ApiMethod {
    /// The path variables when `segments` (the request path split on `/`) fit this template.
    /// A variable takes one non-empty segment without `:` (as Google's routing reads it).
    pub(crate) fn matches(&self, segments: &[&str]) -> Option<Vec<(String, String)>> {
        if segments.len() != self.segments.len() {
            return None;
        }
        let mut params = Vec::new();
        for (seg, got) in self.segments.iter().zip(segments) {
            match seg {
                Seg::Literal(l) => {
                    if l != got {
                        return None;
                    }
                }
                Seg::Var { name, suffix } => {
                    let value = got.strip_suffix(suffix.as_str())?;
                    if value.is_empty() || value.contains(':') {
                        return None;
                    }
                    params.push((name.clone(), percent_decode(value)));
                }
            }
        }
        Some(params)
    }

    /// Checks the path values against their patterns and the query against the declared
    /// parameters: what Google refuses before reading a body.
    pub fn check_request(
        &self,
        api: &Api,
        matched: &Matched<'_>,
        query: &[(String, String)],
    ) -> Result<(), QueryProblem> {
        for (name, value) in &matched.path_params {
            if let Some(i) = self.params.get(name).and_then(|p| p.pattern) {
                let pattern = &api.patterns[i];
                if !pattern.matches(value) {
                    return Err(QueryProblem::PathPattern {
                        value: value.clone(),
                        pattern: pattern.source.clone(),
                    });
                }
            }
        }
        for (name, value) in query {
            let declared = self
                .params
                .get(name)
                .filter(|p| p.location == ParamLocation::Query);
            let Some(p) = declared else {
                if api.global_params.iter().any(|g| g == name) {
                    continue;
                }
                return Err(QueryProblem::Unknown { name: name.clone() });
            };
            let ok = match p.kind {
                ParamKind::Integer(f) => f.integer_in_range_str(value),
                ParamKind::Boolean => value == "true" || value == "false",
                ParamKind::String => p
                    .enum_values
                    .as_ref()
                    .is_none_or(|e| e.iter().any(|x| x == value)),
            };
            if !ok {
                return Err(QueryProblem::Invalid {
                    name: name.clone(),
                    type_label: match p.kind {
                        ParamKind::Integer(f) => f.type_label().to_string(),
                        ParamKind::Boolean => "TYPE_BOOL".into(),
                        ParamKind::String => "TYPE_ENUM".into(),
                    },
                    value: value.clone(),
                });
            }
        }
        Ok(())
    }
}

/// `%XX` escapes of a path segment decoded; anything malformed is kept as sent.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%' && i + 2 < bytes.len())
            .then(|| Some(hex(bytes[i + 1])? * 16 + hex(bytes[i + 2])?))
            .flatten();
        match escaped {
            Some(b) => {
                out.push(b as u8);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::discovery::compute;

    #[test]
    fn path_segments_are_decoded() {
        assert_eq!(percent_decode("a%2Fb"), "a/b");
        assert_eq!(percent_decode("plain"), "plain");
        assert_eq!(percent_decode("bad%zz"), "bad%zz");
    }

    #[test]
    fn query_parameters_must_be_declared_and_well_typed() {
        let c = compute();
        let path = "compute/v1/projects/p/global/backendServices";
        let m = c.find("GET", path).unwrap();
        let q = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
        assert!(
            m.method
                .check_request(c, &m, &q("maxResults", "10"))
                .is_ok()
        );
        assert!(
            m.method
                .check_request(c, &m, &q("prettyPrint", "false"))
                .is_ok()
        );
        assert_eq!(
            m.method.check_request(c, &m, &q("bogus", "1")),
            Err(QueryProblem::Unknown {
                name: "bogus".into()
            })
        );
        assert!(matches!(
            m.method.check_request(c, &m, &q("maxResults", "ten")),
            Err(QueryProblem::Invalid { .. })
        ));
        let bad = c
            .find(
                "GET",
                "compute/v1/projects/p/global/backendServices/Bad_Name",
            )
            .unwrap();
        assert!(matches!(
            bad.method.check_request(c, &bad, &[]),
            Err(QueryProblem::PathPattern { .. })
        ));
    }
}
