use std::time::Duration;

#[tokio::test]
async fn healthz_answers_when_the_database_does() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = switchyard::config::Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        database: format!("sqlite://{}", dir.path().join("t.db").display()),
        gcp: switchyard::config::GcpMode::Sandbox,
        compute_endpoint: String::new(),
        run_endpoint: String::new(),
        resourcemanager_endpoint: String::new(),
        certificatemanager_endpoint: String::new(),
        monitoring_endpoint: String::new(),
        drift_interval: 0,
        plan_ttl: switchyard::deploy::DEFAULT_PLAN_TTL_SECS,
        certificate_poll_ms: 100,
        trusted_proxies: Vec::new(),
        engine: switchyard::config::EngineSettings::default(),
    };
    settings.listen = "127.0.0.1:0".parse().unwrap();
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(switchyard::serve(settings, listener, async {
        let _ = rx.await;
    }));
    let client = reqwest::Client::new();
    let mut status = None;
    for _ in 0..50 {
        if let Ok(r) = client.get(format!("http://{addr}/healthz")).send().await {
            status = Some(r.status());
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(status, Some(reqwest::StatusCode::OK));
    tx.send(()).unwrap();
    server.await.unwrap().unwrap();
}
