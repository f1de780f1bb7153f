//! Pinned plans over the API, against the sandbox over HTTP: apply runs exactly the reviewed plan
//! or answers 409 saying what moved; risks must be accepted; jobs name their plan.

use crate::common::{Client, spawn_app};
use crate::deploy::{create_deployment as create, seed, wait_job as wait};
use serde_json::{Value, json};
use switchyard::auth::Role;
use switchyard::cloud::ResourceRef;

async fn post(c: &mut Client, path: &str, body: Value) -> (u16, Value) {
    let r = c.post_json(path, &body).await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn edit(c: &mut Client, id: i64, spec: &Value, version: i64) {
    let r = c
        .request(reqwest::Method::PUT, &format!("/api/v1/deployments/{id}"))
        .header("if-match", version.to_string())
        .json(spec)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

#[tokio::test]
async fn apply_runs_the_pinned_plan_or_says_what_moved() {
    let app = spawn_app().await;
    let mut c = app.token_client("ed", Role::Editor).await;
    let spec = seed("seed-002.json");
    let id = create(&app, &spec).await;

    // The plan answers its id, the version planned, the counts, risks and words per action.
    let (s, plan) = post(&mut c, &format!("/api/v1/deployments/{id}/plan"), json!({})).await;
    assert_eq!(s, 200, "{plan}");
    let plan_id = plan["plan_id"].as_str().unwrap().to_string();
    assert_eq!(plan["version"], 1);
    assert_eq!(plan["kind"], "apply");
    let n = plan["actions"].as_array().unwrap().len() as u64;
    assert_eq!(plan["counts"]["create"].as_u64().unwrap(), n, "{plan}");
    assert_eq!(plan["risks"], json!([]));
    for a in plan["actions"].as_array().unwrap() {
        assert!(
            a["summary"].as_str().unwrap().starts_with("creates "),
            "{a}"
        );
        assert!(a["location"].is_string(), "{a}");
    }

    // The draft changes in another tab: the plan of version 1 is refused, naming both versions.
    let mut edited = spec.clone();
    edited["backends"][1]["cdn"] = json!(true);
    edit(&mut c, id, &edited, 1).await;
    let (s, body) = post(
        &mut c,
        &format!("/api/v1/deployments/{id}/apply"),
        json!({"plan_id": plan_id}),
    )
    .await;
    assert_eq!(s, 409, "{body}");
    assert_eq!(body["error"]["code"], "plan_stale");
    let msg = body["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("version 1") && msg.contains("version 2"),
        "{msg}"
    );

    // Planning again and applying that plan works; the job names its plan.
    let (_, plan) = post(&mut c, &format!("/api/v1/deployments/{id}/plan"), json!({})).await;
    let plan_id = plan["plan_id"].as_str().unwrap().to_string();
    assert_eq!(plan["version"], 2);
    let (s, body) = post(
        &mut c,
        &format!("/api/v1/deployments/{id}/apply"),
        json!({"plan_id": plan_id}),
    )
    .await;
    assert_eq!(s, 202, "{body}");
    let job = wait(&mut c, body["job_id"].as_i64().unwrap()).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["plan_id"], json!(plan_id));

    // A plan runs once.
    let (s, body) = post(
        &mut c,
        &format!("/api/v1/deployments/{id}/apply"),
        json!({"plan_id": plan_id}),
    )
    .await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (409, Some("plan_stale")),
        "{body}"
    );

    // A change behind the panel's back after the plan makes apply refuse, naming the resource.
    let mut cdn_off = edited.clone();
    cdn_off["backends"][1]["cdn"] = json!(false);
    edit(&mut c, id, &cdn_off, 2).await;
    let (_, plan) = post(&mut c, &format!("/api/v1/deployments/{id}/plan"), json!({})).await;
    let plan_id = plan["plan_id"].as_str().unwrap().to_string();
    assert_eq!(plan["counts"]["update"], 1, "{plan}");
    let bs = ResourceRef::global("my-lb-project", "backendServices", "hello-lb-bs-hello2");
    let current: Value = app.state.cloud.get(&bs).await.unwrap().unwrap();
    let op = app
        .state
        .cloud
        .patch(
            &bs,
            &json!({"enableCDN": false, "fingerprint": current["fingerprint"]}),
            uuid::Uuid::new_v4(),
        )
        .await
        .unwrap();
    app.state.cloud.wait_operation(&op).await.unwrap();
    let (s, body) = post(
        &mut c,
        &format!("/api/v1/deployments/{id}/apply"),
        json!({"plan_id": plan_id}),
    )
    .await;
    assert_eq!(s, 409, "{body}");
    assert_eq!(body["error"]["code"], "plan_stale");
    let msg = body["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("live resources changed") && msg.contains("hello-lb-bs-hello2"),
        "{msg}"
    );

    // Unknown plans and plans of the other kind are refused naming the field.
    let (s, body) = post(
        &mut c,
        &format!("/api/v1/deployments/{id}/apply"),
        json!({"plan_id": "nope"}),
    )
    .await;
    assert_eq!(
        (s, body["error"]["field"].as_str()),
        (422, Some("plan_id")),
        "{body}"
    );
}

#[tokio::test]
async fn a_plan_with_risks_needs_them_accepted_and_destroy_plans_pin_too() {
    let app = spawn_app().await;
    let mut c = app.token_client("ed", Role::Editor).await;
    let spec = seed("seed-002.json");
    let id = create(&app, &spec).await;
    let (s, body) = post(
        &mut c,
        &format!("/api/v1/deployments/{id}/apply"),
        json!({}),
    )
    .await;
    assert_eq!(s, 202, "{body}");
    assert_eq!(
        wait(&mut c, body["job_id"].as_i64().unwrap()).await["status"],
        "succeeded"
    );

    // Dropping the /hello2 rule removes a route that receives traffic.
    let mut edited = spec.clone();
    edited["routing"]["rules"] = json!([]);
    edit(&mut c, id, &edited, 1).await;
    let (_, plan) = post(&mut c, &format!("/api/v1/deployments/{id}/plan"), json!({})).await;
    let kinds: Vec<&str> = plan["risks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"route_removed"), "{plan}");
    let plan_id = plan["plan_id"].as_str().unwrap();
    let (s, body) = post(
        &mut c,
        &format!("/api/v1/deployments/{id}/apply"),
        json!({"plan_id": plan_id}),
    )
    .await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (409, Some("risks_not_accepted")),
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/hello2"),
        "{body}"
    );
    let (s, body) = post(
        &mut c,
        &format!("/api/v1/deployments/{id}/apply"),
        json!({"plan_id": plan_id, "accept_risks": true}),
    )
    .await;
    assert_eq!(s, 202, "{body}");
    assert_eq!(
        wait(&mut c, body["job_id"].as_i64().unwrap()).await["status"],
        "succeeded"
    );

    // A destroy plan lists the deletes; destroying it names its risks too.
    let (s, plan) = post(
        &mut c,
        &format!("/api/v1/deployments/{id}/plan"),
        json!({"kind": "destroy"}),
    )
    .await;
    assert_eq!(s, 200, "{plan}");
    assert_eq!(plan["kind"], "destroy");
    assert!(plan["counts"]["delete"].as_u64().unwrap() >= 5, "{plan}");
    let plan_id = plan["plan_id"].as_str().unwrap();
    let (s, body) = post(
        &mut c,
        &format!("/api/v1/deployments/{id}/apply"),
        json!({"plan_id": plan_id}),
    )
    .await;
    assert_eq!(
        (s, body["error"]["field"].as_str()),
        (422, Some("plan_id")),
        "{body}"
    );
    let (s, body) = post(
        &mut c,
        &format!("/api/v1/deployments/{id}/destroy"),
        json!({"plan_id": plan_id}),
    )
    .await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (409, Some("risks_not_accepted")),
        "{body}"
    );
    let (s, body) = post(
        &mut c,
        &format!("/api/v1/deployments/{id}/destroy"),
        json!({"plan_id": plan_id, "accept_risks": true}),
    )
    .await;
    assert_eq!(s, 202, "{body}");
    assert_eq!(
        wait(&mut c, body["job_id"].as_i64().unwrap()).await["status"],
        "succeeded"
    );
}
