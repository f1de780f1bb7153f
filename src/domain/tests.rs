//! Cross-module tests: the seed walkthroughs as spec fixtures (tests/data/seeds/, shared with
//! the integration tests) and generated specs that must never make parse/validate/lint/preview/
//! the URL-map evaluator panic.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use super::gcloud;
use super::lint::{self, Level};
use super::parse;
use super::plan;
use super::preview;
use super::spec::Spec;
use super::urlmap::{self, Outcome, UrlMap};
use super::validate::{self, CLOUD_RUN_REGIONS};

/// Seed 001 with Cloud Run services deployed by the spec, as JSON to vary.
pub(crate) fn services_seed() -> Value {
    serde_json::from_str(include_str!(
        "../../tests/data/seeds/seed-001-services.json"
    ))
    .unwrap()
}

/// Parses a hand-made variant and checks it is a spec the panel would accept.
pub(crate) fn valid(v: &Value) -> Spec {
    let spec = parse::parse(v.to_string()).unwrap();
    validate::validate(&spec).unwrap();
    spec
}

pub(crate) const SEEDS: &[(&str, &str)] = &[
    (
        "seed-000",
        include_str!("../../tests/data/seeds/seed-000.json"),
    ),
    (
        "seed-001",
        include_str!("../../tests/data/seeds/seed-001.json"),
    ),
    (
        "seed-002",
        include_str!("../../tests/data/seeds/seed-002.json"),
    ),
    (
        "seed-002-http",
        include_str!("../../tests/data/seeds/seed-002-http.json"),
    ),
    (
        "seed-002-cross-project",
        include_str!("../../tests/data/seeds/seed-002-cross-project.json"),
    ),
];

fn seed(name: &str) -> Spec {
    let (_, json) = SEEDS.iter().find(|(n, _)| *n == name).unwrap();
    parse::parse(json).unwrap()
}

fn codes(spec: &Spec) -> Vec<&'static str> {
    lint::lint(spec).into_iter().map(|w| w.code).collect()
}

#[test]
fn every_seed_parses_validates_and_builds_a_url_map_google_would_accept() {
    for (name, json) in SEEDS {
        let spec = parse::parse(json).unwrap_or_else(|e| panic!("{name}: {e}"));
        validate::validate(&spec).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let map = plan::url_map(&spec, &|b| format!("global/backendServices/{b}"));
        urlmap::check(&map).unwrap_or_else(|e| panic!("{name}: {e}"));
        // The fixture is a canonical document: serialising the parsed spec gives it back.
        let reparsed: Value = serde_json::from_str(json).unwrap();
        assert_eq!(serde_json::to_value(&spec).unwrap(), reparsed, "{name}");
        for step in gcloud::commands(&spec).steps {
            let cmd = step.command();
            assert!(
                !cmd.contains("health-check") && !cmd.contains("max-rate"),
                "{name}: {cmd}"
            );
        }
        assert!(!preview::preview(&spec).is_empty(), "{name}");
    }
}

#[test]
fn seed_000_single_region_without_failover_is_flagged() {
    let s = seed("seed-000");
    let c = codes(&s);
    assert!(c.contains(&"single-region"), "{c:?}");
    assert!(c.contains(&"serverless-no-outlier-detection"), "{c:?}");
    assert!(c.contains(&"managed-cert-dns"), "{c:?}");
}

#[test]
fn seed_001_explains_why_health_checks_and_max_rate_are_not_there() {
    let s = seed("seed-001");
    let w = lint::lint(&s)
        .into_iter()
        .find(|w| w.code == "serverless-regions-by-proximity")
        .expect("multi-region serverless backend explained");
    assert!(w.why.contains("healthcheck") && w.why.contains("--max-rate"));
    assert!(w.why.contains("weighted backend services in the URL map"));
    assert!(
        !lint::lint(&s)
            .iter()
            .any(|w| w.level == Level::Warning && w.code.starts_with("serverless")),
        "outlier detection is on: no failover warning"
    );
    let script = gcloud::commands(&s).to_shell();
    assert!(script.contains("outlierDetection:"));
    assert_eq!(
        script.matches("--network-endpoint-type=serverless").count(),
        3
    );
}

#[test]
fn seed_002_routes_hello2_and_its_sub_paths_to_the_second_service_at_the_root() {
    for name in ["seed-002", "seed-002-http"] {
        let s = seed(name);
        let map = plan::url_map(&s, &|b| b.to_string());
        let check = |path: &str, backend: &str, received: &str| match urlmap::evaluate(
            &map,
            "203.0.113.10",
            path,
        ) {
            Outcome::Route {
                services, path: p, ..
            } => {
                let names: Vec<&str> = services.iter().map(|(s, _)| s.as_str()).collect();
                assert_eq!(names, [backend], "{name} {path}");
                assert_eq!(p, received, "{name} {path}");
            }
            o => panic!("{name} {path}: {o:?}"),
        };
        check("/", "hello", "/");
        check("/hello2", "hello2", "/");
        check("/hello2/", "hello2", "/");
        check("/hello2/x", "hello2", "/x");
        check("/hello2x", "hello", "/hello2x");
        let rows = preview::preview(&s);
        let row = rows.iter().find(|r| r.path == "/hello2/example").unwrap();
        assert_eq!(row.targets[0].host, "hello2-3qx7k2dz6a-uc.a.run.app");
        assert_eq!(row.targets[0].path, "/example");
    }
    // The walkthrough's first attempt: no Host override → 404 from Cloud Run, which lint names.
    let mut v: Value =
        serde_json::from_str(include_str!("../../tests/data/seeds/seed-002.json")).unwrap();
    v["backends"][0]
        .as_object_mut()
        .unwrap()
        .remove("host_header");
    let s = parse::parse(v.to_string()).unwrap();
    validate::validate(&s).unwrap();
    assert!(codes(&s).contains(&"run-app-no-host-header"));
    // The walkthrough's path rule was `/hello2` alone: sub-paths fall to the default service.
    let mut v: Value =
        serde_json::from_str(include_str!("../../tests/data/seeds/seed-002.json")).unwrap();
    v["routing"]["rules"][0]["paths"] = json!(["/hello2"]);
    let s = parse::parse(v.to_string()).unwrap();
    validate::validate(&s).unwrap();
    let w = lint::lint(&s)
        .into_iter()
        .find(|w| w.code == "path-missing-subtree")
        .unwrap();
    assert_eq!(w.field, "routing.rules[0].paths[0]");
    assert!(w.fix.contains("/hello2/*"));
    assert!(codes(&seed("seed-002-http")).contains(&"http-unencrypted"));
}

// ------------------------------------------------------------------------------------------
// generated specs

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn label(rng: &mut StdRng, max: usize) -> String {
    let len = rng.random_range(1..=max);
    let mut s = String::new();
    s.push(rng.random_range(b'a'..=b'z') as char);
    for _ in 1..len {
        s.push(*pick(rng, b"abcdefghijklmnopqrstuvwxyz0123456789-") as char);
    }
    while s.ends_with('-') {
        s.pop();
        s.push('x');
    }
    s
}

fn domain(rng: &mut StdRng) -> String {
    format!("{}.{}.com", label(rng, 10), label(rng, 8))
}

/// A valid spec by construction.
fn valid_spec(rng: &mut StdRng) -> Value {
    let name = label(rng, 12);
    let n_backends = rng.random_range(1..=4);
    let mut backends = Vec::new();
    let mut backend_names: Vec<String> = Vec::new();
    let mut internet: Vec<String> = Vec::new();
    for i in 0..n_backends {
        let bname = format!("{}{i}", label(rng, 8));
        backend_names.push(bname.clone());
        if rng.random_bool(0.5) {
            let mut regions: Vec<&str> = Vec::new();
            for _ in 0..rng.random_range(1..=3) {
                let r = *pick(rng, CLOUD_RUN_REGIONS);
                if !regions.contains(&r) {
                    regions.push(r);
                }
            }
            backends.push(json!({
                "name": bname, "type": "serverless", "service": label(rng, 20),
                "regions": regions, "cdn": rng.random_bool(0.3), "outlier_detection": rng.random_bool(0.5)
            }));
        } else {
            let fqdn = format!("{}-3qx7k2dz6a-uc.a.run.app", label(rng, 10));
            let mut b = json!({
                "name": bname, "type": "internet", "fqdn": fqdn,
                "port": *pick(rng, &[443_u16, 8443, 80]), "cdn": rng.random_bool(0.3)
            });
            if rng.random_bool(0.7) {
                b["host_header"] = json!(fqdn);
            }
            internet.push(bname.clone());
            backends.push(b);
        }
    }
    let target = |rng: &mut StdRng| -> Value {
        if rng.random_bool(0.6) {
            json!({ "backend": pick(rng, &backend_names) })
        } else {
            let mut names = backend_names.clone();
            names.truncate(rng.random_range(1..=names.len()));
            let split: Vec<Value> = names
                .iter()
                .enumerate()
                .map(|(i, b)| json!({ "backend": b, "weight": if i == 0 { rng.random_range(1..=1000) } else { rng.random_range(0..=1000) } }))
                .collect();
            json!({ "split": split })
        }
    };
    let host_sets: Vec<Vec<String>> = vec![
        vec!["*".into()],
        vec![domain(rng)],
        vec![format!("*.{}", domain(rng)), domain(rng)],
    ];
    let mut rules = Vec::new();
    let mut used_paths: Vec<(usize, String)> = Vec::new();
    for _ in 0..rng.random_range(0..5) {
        let set = rng.random_range(0..host_sets.len());
        let base = format!("/{}", label(rng, 6));
        let mut paths = Vec::new();
        for p in [base.clone(), format!("{base}/*")] {
            if rng.random_bool(0.8) && !used_paths.contains(&(set, p.clone())) {
                used_paths.push((set, p.clone()));
                paths.push(p);
            }
        }
        if paths.is_empty() {
            continue;
        }
        let mut rule = target(rng);
        rule["hosts"] = json!(host_sets[set]);
        rule["paths"] = json!(paths);
        if rng.random_bool(0.4) {
            rule["prefix_rewrite"] = json!(pick(rng, &["/", "/v2/", "/api"]));
        }
        // Internet NEGs take their Host from the backend service only.
        let to_internet = internet
            .iter()
            .any(|b| rule.to_string().contains(&format!("\"{b}\"")));
        if !to_internet && rng.random_bool(0.2) {
            rule["host_rewrite"] = json!(domain(rng));
        }
        rules.push(rule);
    }
    let https = rng.random_bool(0.7);
    let frontend = if https {
        json!({ "protocol": "https", "domains": [domain(rng)], "ip": pick(rng, &["static", "ephemeral"]), "http_redirect": rng.random_bool(0.5) })
    } else {
        json!({ "protocol": "http", "ip": "static" })
    };
    json!({
        "name": name, "project": format!("{}-proj", label(rng, 10)),
        "frontend": frontend, "backends": backends,
        "routing": { "default": target(rng), "rules": rules }
    })
}

/// Every leaf and container path of a JSON value, as pointers.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                let p = format!("{at}/{k}");
                out.push(p.clone());
                pointers(x, p, out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                pointers(x, p, out);
            }
        }
        _ => {}
    }
}

fn junk(rng: &mut StdRng) -> Value {
    match rng.random_range(0..12) {
        0 => Value::Null,
        1 => json!(rng.random_bool(0.5)),
        2 => json!(-1),
        3 => json!(rng.random::<u64>()),
        4 => json!(1.5),
        5 => json!(""),
        6 => json!("UPPER case/with*junk?#"),
        7 => json!([]),
        8 => json!({}),
        9 => json!(["*", "/x*", "ftp://x"]),
        10 => json!("é".repeat(rng.random_range(1..80))),
        _ => json!("a".repeat(rng.random_range(40..1100))),
    }
}

/// One field changed (replaced with junk, removed, or given an unknown sibling).
fn mutate(rng: &mut StdRng, v: &mut Value) {
    let mut ps = Vec::new();
    pointers(v, String::new(), &mut ps);
    let p = pick(rng, &ps).clone();
    let (parent, key) = p.rsplit_once('/').unwrap();
    match rng.random_range(0..4) {
        0 => {
            if let Some(Value::Object(o)) =
                v.pointer_mut(if parent.is_empty() { "" } else { parent })
            {
                o.remove(key);
            } else if let Some(Value::Array(a)) = v.pointer_mut(parent)
                && let Ok(i) = key.parse::<usize>()
                && i < a.len()
            {
                a.remove(i);
            }
        }
        1 => {
            if let Some(Value::Object(o)) =
                v.pointer_mut(if parent.is_empty() { "" } else { parent })
            {
                o.insert("surprise".into(), json!(1));
            }
        }
        _ => {
            let j = junk(rng);
            if let Some(slot) = v.pointer_mut(&p) {
                *slot = j;
            }
        }
    }
}

const TOP_FIELDS: &[&str] = &["name", "project", "frontend", "backends", "routing"];

fn names_a_spec_field(field: &str) -> bool {
    TOP_FIELDS.iter().any(|t| {
        field == *t || field.starts_with(&format!("{t}.")) || field.starts_with(&format!("{t}["))
    })
}

/// Everything downstream of a parsed spec must cope with it, valid or not.
fn exercise(spec: &Spec) {
    let _ = lint::lint(spec);
    let _ = preview::preview(spec);
    let _ = gcloud::commands(spec).to_shell();
    let map = plan::url_map(spec, &|b| b.to_string());
    let _ = urlmap::check_all(&map);
    let _ = urlmap::run_tests(&map);
}

#[test]
fn generated_valid_specs_validate_and_their_url_maps_pass_check() {
    let mut rng = StdRng::seed_from_u64(0x5717_c4ad);
    for i in 0..300 {
        let v = valid_spec(&mut rng);
        let spec = parse::parse(v.to_string()).unwrap_or_else(|e| panic!("#{i} {e}\n{v:#}"));
        validate::validate(&spec).unwrap_or_else(|e| panic!("#{i} {e:?}\n{v:#}"));
        let map = plan::url_map(&spec, &|b| b.to_string());
        urlmap::check(&map).unwrap_or_else(|e| panic!("#{i} {e}\n{v:#}"));
        // Every preview row of a valid spec reaches a defined backend.
        for row in preview::preview(&spec) {
            if row.redirect.is_none() {
                assert!(!row.targets.is_empty(), "#{i} {row:?}");
                for t in &row.targets {
                    assert!(spec.backend(&t.backend).is_some(), "#{i} {t:?}");
                }
            }
        }
        exercise(&spec);
    }
}

#[test]
fn near_valid_specs_never_panic_and_every_error_names_a_field() {
    let mut rng = StdRng::seed_from_u64(0xbad_5bec);
    for i in 0..1500 {
        let mut v = valid_spec(&mut rng);
        mutate(&mut rng, &mut v);
        match parse::parse(v.to_string()) {
            Err(e) => {
                let field = e
                    .field
                    .unwrap_or_else(|| panic!("#{i} no field: {}\n{v:#}", e.message));
                // A top-level unknown key is named as itself.
                assert!(
                    names_a_spec_field(&field) || e.message.starts_with("unknown field"),
                    "#{i} {field}: {}",
                    e.message
                );
            }
            Ok(spec) => {
                if let Err(errs) = validate::validate(&spec) {
                    for e in errs {
                        assert!(names_a_spec_field(&e.field), "#{i} {e:?}");
                        assert!(!e.message.is_empty());
                    }
                }
                exercise(&spec);
            }
        }
    }
}

#[test]
fn garbage_never_panics() {
    let mut rng = StdRng::seed_from_u64(42);
    for _ in 0..1000 {
        let len = rng.random_range(0..200);
        let bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        if let Ok(spec) = parse::parse(&bytes) {
            let _ = validate::validate(&spec);
            exercise(&spec);
        }
        // Structured junk: valid JSON of the wrong shape.
        let v = json!({ "name": junk(&mut rng), "project": junk(&mut rng), "frontend": junk(&mut rng),
                        "backends": [junk(&mut rng)], "routing": { "default": junk(&mut rng), "rules": [junk(&mut rng)] } });
        let _ = parse::parse(v.to_string());
    }
}

#[test]
fn arbitrary_url_maps_and_requests_never_panic_the_evaluator() {
    let mut rng = StdRng::seed_from_u64(99);
    let paths = [
        "/", "", "é/x", "/a/*", "/*", "/a", "a", "/a/b?c#d", "//", "/é/ü",
    ];
    let hosts = [
        "*",
        "a.com",
        "*.a.com",
        "A.COM:8080",
        "[::1]:80",
        "é.com",
        "",
        ":",
    ];
    for _ in 0..500 {
        let host_rule = json!({ "hosts": [pick(&mut rng, &hosts), pick(&mut rng, &hosts)], "pathMatcher": "pm" });
        let v = json!({
            "name": "m",
            "defaultService": "d",
            "defaultRouteAction": if rng.random_bool(0.3) { json!({"urlRewrite": {"pathPrefixRewrite": pick(&mut rng, &paths)}}) } else { Value::Null },
            "hostRules": [host_rule],
            "pathMatchers": [{
                "name": "pm",
                "defaultUrlRedirect": {"prefixRedirect": pick(&mut rng, &paths), "httpsRedirect": rng.random_bool(0.5)},
                "pathRules": [{"paths": [pick(&mut rng, &paths)], "routeAction": {"weightedBackendServices": [{"backendService": "x", "weight": rng.random_range(-5..2000)}], "urlRewrite": {"pathPrefixRewrite": pick(&mut rng, &paths)}}}],
                "routeRules": [{"priority": rng.random_range(-5..5), "matchRules": [{"prefixMatch": pick(&mut rng, &paths), "regexMatch": pick(&mut rng, &["(", "/a.*", ".*"]), "ignoreCase": true}], "service": "r"}]
            }],
            "tests": [{"host": pick(&mut rng, &hosts), "path": pick(&mut rng, &paths), "service": "x"}]
        });
        let map: UrlMap = serde_json::from_value(v).unwrap();
        let _ = urlmap::check_all(&map);
        let _ = urlmap::run_tests(&map);
        for _ in 0..5 {
            let (h, p) = (*pick(&mut rng, &hosts), *pick(&mut rng, &paths));
            let _ = urlmap::evaluate(&map, h, p);
        }
    }
}
