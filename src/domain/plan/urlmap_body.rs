//! The URL map bodies come from the URL-map module, the same translation the route preview and
//! the sandbox's evaluator use, so what the panel shows is what it sends.

use crate::domain::spec::Spec;
use crate::domain::urlmap;
use serde_json::Value;

fn to_body(map: urlmap::UrlMap) -> Value {
    let mut body = serde_json::to_value(map).expect("a URL map always serialises");
    // `compile` sets name and description itself, as it does for every resource.
    if let Value::Object(obj) = &mut body {
        obj.remove("name");
        obj.remove("description");
    }
    body
}

/// The main URL map.
pub fn url_map_body(spec: &Spec, link: &dyn Fn(&str) -> String) -> Value {
    to_body(urlmap::from_spec(spec, link))
}

/// The port-80 map that redirects every request to https.
pub fn redirect_map_body(deployment: &str) -> Value {
    to_body(urlmap::redirect_map(deployment))
}
