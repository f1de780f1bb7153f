//! Generated and mutated specs (valid, near-valid, garbage) through the validator, everything
//! the Review step runs on a spec, and the API: never a panic, never a 500, and a 422 always
//! names a field.

use crate::deployments_support::{ClientExt, seed, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};
use switchyard::auth::Role;
use switchyard::domain::draft::Draft;
use switchyard::domain::{gcloud, lint, parse, preview, validate};

/// A small deterministic generator (xorshift64*), so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn odd_values() -> Vec<Value> {
    vec![
        Value::Null,
        json!(true),
        json!(0),
        json!(-1),
        json!(65536),
        json!(4294967296u64),
        json!(1.5),
        json!(""),
        json!("x"),
        json!("Ω≠"),
        json!("a".repeat(300)),
        json!("*"),
        json!("/"),
        json!("/*"),
        json!("//x"),
        json!("hello"),
        json!("hello2"),
        json!("https://x.a.run.app/"),
        json!("10.0.0.1"),
        json!("us-central1"),
        json!([]),
        json!({}),
        json!(["*"]),
        json!([""]),
        json!(["/x", "/x"]),
        json!({ "backend": "hello" }),
        json!({ "backend": "nope" }),
        json!({ "split": [] }),
        json!({ "split": [{ "backend": "hello", "weight": 0 }] }),
        json!({ "split": [{ "backend": "hello", "weight": 1001 }, { "backend": "hello2", "weight": 1 }] }),
        json!({ "name": "x", "type": "serverless", "service": "s", "regions": [] }),
        json!({ "name": "y", "type": "internet", "fqdn": "y.example.com" }),
        json!({ "hosts": ["*.example.com"], "paths": ["/a/*"], "backend": "hello", "host_rewrite": "h:0" }),
    ]
}

/// Every JSON path in `v` (as a list of object keys / array indexes).
fn paths(v: &Value, here: Vec<PathSeg>, out: &mut Vec<Vec<PathSeg>>) {
    out.push(here.clone());
    match v {
        Value::Object(m) => {
            for (k, c) in m {
                let mut p = here.clone();
                p.push(PathSeg::Key(k.clone()));
                paths(c, p, out);
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                let mut p = here.clone();
                p.push(PathSeg::Index(i));
                paths(c, p, out);
            }
        }
        _ => {}
    }
}

#[derive(Clone, Debug)]
enum PathSeg {
    Key(String),
    Index(usize),
}

fn at<'a>(v: &'a mut Value, path: &[PathSeg]) -> Option<&'a mut Value> {
    let mut cur = v;
    for seg in path {
        cur = match seg {
            PathSeg::Key(k) => cur.get_mut(k.as_str())?,
            PathSeg::Index(i) => cur.get_mut(*i)?,
        };
    }
    Some(cur)
}

fn mutate(rng: &mut Rng, v: &mut Value) {
    let mut all = Vec::new();
    paths(v, Vec::new(), &mut all);
    let path = rng.pick(&all).clone();
    let odd = odd_values();
    match rng.below(5) {
        // Remove the node from its parent.
        0 if !path.is_empty() => {
            let (last, parent) = path.split_last().unwrap();
            if let Some(p) = at(v, parent) {
                match (p, last) {
                    (Value::Object(m), PathSeg::Key(k)) => {
                        m.remove(k);
                    }
                    (Value::Array(a), PathSeg::Index(i)) if *i < a.len() => {
                        a.remove(*i);
                    }
                    _ => {}
                }
            }
        }
        // Duplicate an array element.
        1 => {
            if let Some(Value::Array(a)) = at(v, &path)
                && let Some(first) = a.first().cloned()
            {
                a.push(first);
            }
        }
        // Add an unknown key.
        2 => {
            if let Some(Value::Object(m)) = at(v, &path) {
                m.insert("unexpected".into(), json!(1));
            }
        }
        // Replace with an odd value.
        _ => {
            if let Some(node) = at(v, &path) {
                *node = rng.pick(&odd).clone();
            }
        }
    }
}

fn garbage(rng: &mut Rng, base: &str) -> Vec<u8> {
    match rng.below(3) {
        0 => base.as_bytes()[..rng.below(base.len())].to_vec(),
        1 => (0..rng.below(64))
            .map(|_| (rng.next() & 0xff) as u8)
            .collect(),
        _ => {
            let mut b = base.as_bytes().to_vec();
            for _ in 0..3 {
                let i = rng.below(b.len());
                b[i] = *rng.pick(b"{}[]\",:0\\x\x00");
            }
            b
        }
    }
}

/// What the Review step and the API do with a document, in process: must not panic.
fn exercise(bytes: &[u8]) -> Result<Result<(), Vec<validate::FieldError>>, parse::ParseError> {
    if let Ok(text) = std::str::from_utf8(bytes)
        && let Ok(d) = Draft::from_json(text)
    {
        let _ = d.to_spec();
    }
    let spec = parse::parse(bytes)?;
    let verdict = validate::validate(&spec);
    let _ = lint::lint(&spec);
    let _ = preview::preview(&spec);
    let _ = gcloud::commands(&spec).to_shell();
    if let Err(errs) = &verdict {
        for e in errs {
            assert!(!e.field.is_empty(), "an error without a field: {e:?}");
        }
    }
    Ok(verdict)
}

/// A spec put together from random parts: each part is sound, except that now and then (one
/// time in `bad` per choice) a part is one Google would refuse.
fn generate(rng: &mut Rng, i: usize) -> Value {
    const BAD: usize = 25;
    let bad = BAD;
    fn pick(rng: &mut Rng, good: &[&'static str], wrong: &[&'static str]) -> &'static str {
        let list = if rng.below(BAD) == 0 { wrong } else { good };
        list[rng.below(list.len())]
    }
    let n = 1 + rng.below(3);
    let mut backends = Vec::new();
    for k in 0..n {
        let name = format!("b{k}");
        let name = if rng.below(bad) == 0 {
            "Bad_Name".to_string()
        } else {
            name
        };
        if rng.below(2) == 0 {
            let region = pick(
                rng,
                &["us-central1", "europe-west1", "asia-east1"],
                &["mars-north1"],
            );
            let service = pick(rng, &["web", "api", "my-app"], &["My_App", ""]);
            backends.push(json!({ "name": name, "type": "serverless", "service": service,
                "regions": [region], "cdn": rng.below(2) == 0, "outlier_detection": rng.below(2) == 0 }));
        } else {
            let fqdn = pick(
                rng,
                &["hello-3qx7k2dz6a-uc.a.run.app", "lb.example.com"],
                &["https://x.a.run.app/", "10.0.0.1"],
            );
            let port: u64 = if rng.below(bad) == 0 { 0 } else { 443 };
            backends.push(
                json!({ "name": name, "type": "internet", "fqdn": fqdn, "port": port,
                "host_header": fqdn }),
            );
        }
    }
    let names: Vec<String> = (0..n).map(|k| format!("b{k}")).collect();
    let target = |rng: &mut Rng| {
        if rng.below(bad) == 0 {
            return json!({ "backend": "ghost" });
        }
        if rng.below(3) == 0 && n > 1 {
            let weight: u64 = if rng.below(bad) == 0 {
                1001
            } else {
                1 + rng.below(100) as u64
            };
            json!({ "split": [{ "backend": names[0], "weight": weight }, { "backend": names[1], "weight": 10 }] })
        } else {
            json!({ "backend": rng.pick(&names) })
        }
    };
    let rules: Vec<Value> = (0..rng.below(4))
        .map(|k| {
            let mut r = target(rng);
            r["hosts"] = json!([pick(rng, &["*"], &["*x.com", ""])]);
            let path = pick(rng, &["/p", "/p/*"], &["p", "/a*b"]);
            r["paths"] = json!([format!(
                "{}{k}{}",
                &path[..path.len().min(2)],
                &path[path.len().min(2)..]
            )]);
            if rng.below(2) == 0 {
                r["prefix_rewrite"] = json!(pick(rng, &["/", "/v2/"], &[""]));
            }
            if rng.below(3) == 0 {
                r["host_rewrite"] = json!(pick(
                    rng,
                    &["internal.example.com"],
                    &["a b", "x.example.com:99999"]
                ));
            }
            r
        })
        .collect();
    let https = rng.below(3) != 0;
    json!({
        "name": format!("gen{i}"),
        "project": pick(rng, &["acme-edge", "my-lb-project"], &["x"]),
        "frontend": {
            "protocol": if https { "https" } else { "http" },
            "domains": if https && rng.below(bad) != 0 { json!(["shop.example.com"]) } else { json!([]) },
            "ip": pick(rng, &["static", "ephemeral"], &["static"]),
            "http_redirect": https && rng.below(2) == 0,
        },
        "backends": backends,
        "routing": { "default": target(rng), "rules": rules },
    })
}

fn corpus() -> Vec<Vec<u8>> {
    let seeds: Vec<Value> = ["seed-000", "seed-001", "seed-002", "seed-002-http"]
        .iter()
        .map(|s| seed(s))
        .collect();
    let mut rng = Rng(0x5eed_0002);
    let mut out: Vec<Vec<u8>> = seeds.iter().map(|s| s.to_string().into_bytes()).collect();
    for i in 0..600 {
        let mut v = rng.pick(&seeds).clone();
        for _ in 0..=rng.below(3) {
            mutate(&mut rng, &mut v);
        }
        // Unique names so valid ones are not refused as duplicates by the API.
        if i % 2 == 0
            && let Some(n) = v.get_mut("name")
            && n.is_string()
        {
            *n = json!(format!("fz{i}"));
        }
        out.push(v.to_string().into_bytes());
    }
    for i in 0..200 {
        out.push(generate(&mut rng, i).to_string().into_bytes());
    }
    let base = seeds[2].to_string();
    for _ in 0..100 {
        out.push(garbage(&mut rng, &base));
    }
    out
}

#[test]
fn the_validator_and_review_never_panic_and_always_name_the_field() {
    let mut seen = [0usize; 3];
    for doc in corpus() {
        match exercise(&doc) {
            Ok(Ok(())) => seen[0] += 1,
            Ok(Err(_)) => seen[1] += 1,
            Err(e) => {
                seen[2] += 1;
                // A document that is JSON but not a spec names the field at fault.
                if serde_json::from_slice::<Value>(&doc).is_ok_and(|v| v.is_object()) {
                    assert!(
                        e.field.is_some(),
                        "no field for {e} in {}",
                        String::from_utf8_lossy(&doc)
                    );
                }
            }
        }
    }
    // The corpus reaches all three outcomes in good numbers.
    assert!(
        seen.iter().all(|n| *n >= 20),
        "valid, invalid, unparseable: {seen:?}"
    );
}

#[tokio::test]
async fn the_api_answers_every_document_with_201_400_or_422_naming_the_field() {
    let app = spawn_app().await;
    let ann = app.token_client("ann", Role::Editor).await;
    let (_, first) = ann
        .send_json(Method::POST, "/api/v1/deployments", &seed("seed-000"), None)
        .await;
    let id = first["id"].as_i64().unwrap();
    let mut version = 1;
    for (i, doc) in corpus().into_iter().enumerate() {
        // Alternate creates and updates so both paths see every kind of document.
        let (method, path) = if i % 2 == 0 {
            (Method::POST, "/api/v1/deployments".to_string())
        } else {
            (Method::PUT, format!("/api/v1/deployments/{id}"))
        };
        let r = ann
            .request(method.clone(), &path)
            .header("content-type", "application/json")
            .header("if-match", version.to_string())
            .body(doc.clone())
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().await.expect("every answer is JSON");
        let doc = String::from_utf8_lossy(&doc);
        match status {
            201 | 200 => {
                if method == Method::PUT {
                    version = body["version"].as_i64().unwrap();
                }
            }
            400 => assert_eq!(body["error"]["code"], "bad_request", "{doc}"),
            422 => {
                let field = body["error"]["field"].as_str().unwrap_or_default();
                assert!(!field.is_empty(), "422 without a field for {doc}: {body}");
            }
            other => panic!("{method} {path} answered {other} for {doc}: {body}"),
        }
    }
    let (status, _) = ann.json("/api/v1/deployments").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn mutated_specs_imported_as_drafts_render_every_step() {
    let app = spawn_app().await;
    let mut ann = app.user_client("ann", Role::Editor).await;
    let mut imported = 0;
    for (i, doc) in corpus().into_iter().enumerate().step_by(15) {
        let text = String::from_utf8_lossy(&doc).to_string();
        let name = format!("imp{i}");
        let r = ann
            .post_form("/deployments/import", &[("spec", &text), ("name", &name)])
            .await;
        let status = r.status().as_u16();
        assert!(
            matches!(status, 303 | 422),
            "import answered {status} for {text}"
        );
        if status != 303 {
            continue;
        }
        imported += 1;
        let to = crate::deployments_support::location(&r);
        let id = to.split('/').nth(2).unwrap().to_string();
        for step in ["basics", "frontend", "backends", "routing", "review"] {
            let (status, _) = ann.text(&format!("/deployments/{id}/edit/{step}")).await;
            assert_eq!(status, 200, "{step} of {text}");
        }
        for page in ["", "/versions", "/export"] {
            let (status, _) = ann.text(&format!("/deployments/{id}{page}")).await;
            assert_eq!(status, 200, "{page} of {text}");
        }
    }
    assert!(imported >= 10, "only {imported} imported");
    assert_eq!(ann.text("/deployments").await.0, 200);
}

#[test]
fn the_generator_makes_valid_and_invalid_specs() {
    let mut rng = Rng(7);
    let (mut valid, mut invalid) = (0, 0);
    for i in 0..200 {
        match exercise(generate(&mut rng, i).to_string().as_bytes()) {
            Ok(Ok(())) => valid += 1,
            _ => invalid += 1,
        }
    }
    assert!(
        valid >= 10 && invalid >= 10,
        "valid {valid}, invalid {invalid}"
    );
}
