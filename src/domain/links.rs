//! Compute links, the one home of how references are written and compared. Google returns every
//! reference as a full URL on `www.googleapis.com`; requests may send the full URL, the partial
//! path `projects/P/global/backendServices/N`, and some fields a shorter form. The client, the
//! planner, the URL-map model and the sandbox all compare through these functions.

/// What Compute puts before a resource path in every link it returns.
pub const COMPUTE_BASE: &str = "https://www.googleapis.com/compute/v1/";

/// A link as Compute returns it: [`COMPUTE_BASE`] + path.
pub fn full_url(path: &str) -> String {
    format!("{COMPUTE_BASE}{path}")
}

/// The part of a link after `/compute/v1/`, or the link itself when it has none, so that the
/// full URLs the API returns compare equal to the partial paths we send (and a private
/// endpoint's host never matters).
pub fn link_path(link: &str) -> &str {
    if let Some(i) = link.find("/compute/v1/") {
        return &link[i + "/compute/v1/".len()..];
    }
    // A certificate map on a proxy: Google answers the `//` form, gcloud sends the v1 URL.
    for base in [
        CERTIFICATE_MANAGER_BASE,
        "https://certificatemanager.googleapis.com/v1/",
    ] {
        if let Some(path) = link.strip_prefix(base) {
            return path;
        }
    }
    link
}

/// What Compute puts before a Certificate Manager resource path (`certificateMap` on a proxy).
pub const CERTIFICATE_MANAGER_BASE: &str = "//certificatemanager.googleapis.com/";

/// A Certificate Manager resource as Compute refers to it: [`CERTIFICATE_MANAGER_BASE`] + path.
pub fn certificate_manager_url(path: &str) -> String {
    format!("{CERTIFICATE_MANAGER_BASE}{path}")
}

/// The resource path of a link, only when it is one: a Compute URL on any host or a path
/// starting with `projects/`. A bare name or a short form is not.
pub fn compute_path(link: &str) -> Option<String> {
    let path = match link.find("/compute/v1/") {
        Some(i) => &link[i + "/compute/v1/".len()..],
        None if link.starts_with("projects/") => link,
        None => return None,
    };
    Some(path.trim_end_matches('/').to_string())
}

/// True when two links name the same resource by its full path, whatever their host. Short
/// forms and bare names never match (see [`same_reference`] for those).
pub fn same_resource(a: &str, b: &str) -> bool {
    match (compute_path(a), compute_path(b)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// Whether two references written in any form the API accepts name the same resource: full URL
/// on either host, `projects/P/global/backendServices/N`, `global/backendServices/N`, or a bare
/// name (compared by last segment). A project is only compared when both sides name one. This
/// is how a URL map's references are matched, where all those forms occur.
pub fn same_reference(a: &str, b: &str) -> bool {
    fn parts(s: &str) -> (Option<&str>, &str) {
        let s = s.split_once("/compute/v1/").map_or(s, |(_, rest)| rest);
        let s = s.trim_matches('/');
        match s.strip_prefix("projects/").and_then(|r| r.split_once('/')) {
            Some((project, rest)) => (Some(project), rest),
            None => (None, s),
        }
    }
    let (pa, ra) = parts(a);
    let (pb, rb) = parts(b);
    if !ra.contains('/') || !rb.contains('/') {
        return ra.rsplit('/').next() == rb.rsplit('/').next();
    }
    ra == rb && (pa.is_none() || pb.is_none() || pa == pb)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_and_lenient_comparisons() {
        let full = "https://www.googleapis.com/compute/v1/projects/p/global/backendServices/a";
        let private = "http://127.0.0.1:9/compute/v1/projects/p/global/backendServices/a";
        assert!(same_resource(full, private));
        assert!(same_resource(full, "projects/p/global/backendServices/a"));
        assert!(!same_resource(full, "global/backendServices/a"));
        assert!(!same_resource(full, "a"));
        assert!(same_reference(full, "global/backendServices/a"));
        assert!(same_reference(full, "a"));
        assert!(!same_reference(full, "projects/q/global/backendServices/a"));
        assert_eq!(link_path(full), "projects/p/global/backendServices/a");
        assert_eq!(link_path("a"), "a");
        assert_eq!(compute_path("a"), None);
        assert_eq!(
            full_url("projects/p"),
            "https://www.googleapis.com/compute/v1/projects/p"
        );
    }
}
