//! Cloud Run v2 through the client against the sandbox: services, revisions that become Ready,
//! operations, IAM with etags, the failing-image fault.

use crate::cloud_support::{P, R, fast_config, start};
use std::time::Duration;
use switchyard::cloud::sandbox::SandboxConfig;

/// Long enough that a read right after a change still sees the revision reconciling.
fn observable() -> SandboxConfig {
    SandboxConfig {
        run_latency: Duration::from_millis(1500),
        ..fast_config()
    }
}
use switchyard::cloud::types::*;
use switchyard::cloud::{CloudError, CompletedOperation};

#[tokio::test]
async fn a_created_service_reconciles_then_is_ready_with_urls() {
    let cloud = start(observable()).await;
    let services = cloud.client.run_services(P, R);
    let op = services
        .create(
            "my-app",
            &RunService::with_image("us-docker.pkg.dev/cloudrun/container/hello"),
        )
        .await
        .unwrap();
    assert!(!op.done);
    assert!(
        op.name
            .starts_with("projects/acme/locations/us-central1/operations/")
    );
    let meta = op.metadata.as_ref().unwrap();
    assert_eq!(
        meta["@type"],
        "type.googleapis.com/google.cloud.run.v2.Service"
    );
    assert_eq!(meta["reconciling"], true);
    let pending = services.get("my-app").await.unwrap().unwrap();
    assert!(!pending.is_ready());
    assert_eq!(
        pending.terminal_condition.unwrap().state.as_deref(),
        Some("CONDITION_RECONCILING")
    );

    let done = match cloud.client.wait(&op.reference()).await.unwrap() {
        CompletedOperation::Run(o) => o,
        other => panic!("{other:?}"),
    };
    assert!(done.done);
    let svc = done.service().unwrap();
    assert!(svc.is_ready());
    let got = services.get("my-app").await.unwrap().unwrap();
    assert!(got.is_ready());
    assert!(got.uri.as_deref().unwrap().starts_with("https://my-app-"));
    assert!(got.uri.as_deref().unwrap().ends_with(".a.run.app"));
    assert_eq!(got.urls.len(), 2);
    assert_eq!(got.latest_ready_revision, got.latest_created_revision);
    assert_eq!(got.generation.as_deref(), Some("1"));

    let err = services
        .create("my-app", &RunService::with_image("x"))
        .await
        .unwrap_err();
    assert!(matches!(err, CloudError::AlreadyExists { .. }), "{err:?}");
    assert!(services.get("nope").await.unwrap().is_none());
}

#[tokio::test]
async fn patch_with_allow_missing_upserts_and_creates_a_new_revision_on_change() {
    let cloud = start(observable()).await;
    let services = cloud.client.run_services(P, R);
    let err = services
        .patch("api", &RunService::with_image("img:1"), false, None)
        .await
        .unwrap_err();
    assert!(matches!(err, CloudError::NotFound { .. }), "{err:?}");
    let op = services
        .patch("api", &RunService::with_image("img:1"), true, None)
        .await
        .unwrap();
    cloud.client.wait(&op.reference()).await.unwrap();
    let first = services.get("api").await.unwrap().unwrap();
    let op = services
        .patch("api", &RunService::with_image("img:2"), true, None)
        .await
        .unwrap();
    // While the new revision starts, the old one still serves.
    let during = services.get("api").await.unwrap().unwrap();
    assert_eq!(during.reconciling, Some(true));
    assert_eq!(during.latest_ready_revision, first.latest_created_revision);
    cloud.client.wait(&op.reference()).await.unwrap();
    let second = services.get("api").await.unwrap().unwrap();
    assert_ne!(
        second.latest_created_revision,
        first.latest_created_revision
    );
    assert_eq!(second.latest_ready_revision, second.latest_created_revision);
    assert_eq!(second.generation.as_deref(), Some("2"));
    assert_eq!(services.list().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_failing_image_never_becomes_ready_and_its_operation_fails() {
    let mut config = fast_config();
    config.faults.failing_images = vec!["broken".into()];
    let cloud = start(config).await;
    let services = cloud.client.run_services(P, R);
    let op = services
        .create("bad", &RunService::with_image("gcr.io/x/broken:1"))
        .await
        .unwrap();
    let err = cloud.client.wait(&op.reference()).await.unwrap_err();
    match &err {
        CloudError::OperationFailed { code, message, .. } => {
            assert_eq!(code, "FAILED_PRECONDITION");
            assert!(message.contains("is not ready and cannot serve traffic"));
        }
        other => panic!("{other:?}"),
    }
    let svc = services.get("bad").await.unwrap().unwrap();
    assert_eq!(svc.reconciling, Some(false));
    let cond = svc.terminal_condition.unwrap();
    assert_eq!(cond.state.as_deref(), Some("CONDITION_FAILED"));
    assert!(cond.message.unwrap().contains("broken"));
    assert!(svc.latest_ready_revision.is_none());
}

#[tokio::test]
async fn iam_policy_read_modify_write_with_etags() {
    let cloud = start(fast_config()).await;
    let services = cloud.client.run_services(P, R);
    let op = services
        .create("pub", &RunService::with_image("img"))
        .await
        .unwrap();
    cloud.client.wait(&op.reference()).await.unwrap();
    let mut policy = services.get_iam_policy("pub").await.unwrap();
    assert!(policy.bindings.is_empty());
    let stale = policy.clone();
    assert!(policy.grant("roles/run.invoker", "allUsers"));
    assert!(
        !policy.grant("roles/run.invoker", "allUsers"),
        "granting twice changes nothing"
    );
    let saved = services.set_iam_policy("pub", &policy).await.unwrap();
    assert_eq!(saved.bindings[0].members, vec!["allUsers".to_string()]);
    assert_ne!(saved.etag, stale.etag);
    // Someone else's write in between: the stale etag is a conflict, not a silent overwrite.
    let err = services.set_iam_policy("pub", &stale).await.unwrap_err();
    assert!(matches!(err, CloudError::Conflict { .. }), "{err:?}");
    assert_eq!(
        services.get_iam_policy("pub").await.unwrap().bindings.len(),
        1
    );
    let mut bad = saved.clone();
    bad.grant("roles/run.invoker", "nobody");
    let err = services.set_iam_policy("pub", &bad).await.unwrap_err();
    assert!(matches!(err, CloudError::Invalid { .. }), "{err:?}");
}

#[tokio::test]
async fn delete_is_an_operation_and_the_service_is_gone() {
    let cloud = start(fast_config()).await;
    let services = cloud.client.run_services(P, R);
    let op = services
        .create("gone", &RunService::with_image("img"))
        .await
        .unwrap();
    cloud.client.wait(&op.reference()).await.unwrap();
    let svc = services.get("gone").await.unwrap().unwrap();
    let err = services
        .delete("gone", Some("\"stale\""))
        .await
        .unwrap_err();
    assert!(matches!(err, CloudError::Conflict { .. }), "{err:?}");
    let op = services.delete("gone", svc.etag.as_deref()).await.unwrap();
    cloud.client.wait(&op.reference()).await.unwrap();
    assert!(services.get("gone").await.unwrap().is_none());
    let err = services.delete("gone", None).await.unwrap_err();
    assert!(matches!(err, CloudError::NotFound { .. }));
}

fn with_env(env: Vec<EnvVar>) -> RunService {
    let mut s = RunService::with_image("us-docker.pkg.dev/cloudrun/container/hello");
    s.template.as_mut().unwrap().containers[0].env = env;
    s
}

fn secret(name: &str, secret: &str, version: Option<&str>) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: None,
        value_source: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                secret: secret.into(),
                version: version.map(Into::into),
            }),
        }),
    }
}

/// Secret Manager references are kept and given back as sent (docs/google-cloud.md §1); an
/// entry with both a value and a reference, or a reference without a well-formed secret, is
/// refused like any malformed field.
#[tokio::test]
async fn env_secret_references_are_kept_as_sent_and_malformed_ones_refused() {
    let cloud = start(fast_config()).await;
    let services = cloud.client.run_services(P, R);
    let env = vec![
        EnvVar {
            name: "MODE".into(),
            value: Some("prod".into()),
            value_source: None,
        },
        secret("DB_PASS", "db-pass", Some("latest")),
        secret("API_KEY", "projects/other-proj/secrets/api-key", Some("3")),
    ];
    let op = services
        .patch("my-app", &with_env(env.clone()), true, None)
        .await
        .unwrap();
    cloud.client.wait(&op.reference()).await.unwrap();
    let got = services.get("my-app").await.unwrap().unwrap();
    assert!(got.is_ready());
    assert_eq!(got.template.unwrap().containers[0].env, env);

    for (bad, words) in [
        (
            EnvVar {
                value: Some("x".into()),
                ..secret("A", "db-pass", None)
            },
            "value and valueSource cannot both be set",
        ),
        (secret("A", "", None), "secretKeyRef.secret: Required"),
        (secret("A", "db pass", None), "is not a valid secret name"),
        (
            secret("A", "db-pass", Some("1/2")),
            "is not a valid secret version",
        ),
        (
            EnvVar {
                name: String::new(),
                value: Some("x".into()),
                value_source: None,
            },
            "env[0].name: Required",
        ),
    ] {
        let err = services
            .patch("other", &with_env(vec![bad]), true, None)
            .await
            .unwrap_err();
        assert!(
            matches!(err, CloudError::Invalid { .. }) && err.to_string().contains(words),
            "{words}: {err:?}"
        );
    }
}
