//! The command line: `user add --password-stdin`, `token create`, `migrate`.

use std::io::Write;
use std::process::{Command, Stdio};

fn switchyard(db: &str, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(args)
        .env("SWITCHYARD_DATABASE", db)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn user_add_and_token_create_work_against_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("switchyard.db");
    let db = format!("sqlite://{}", path.display());

    let out = switchyard(&db, &["migrate"], None);
    assert!(out.status.success(), "{out:?}");
    let out = switchyard(
        &db,
        &["user", "add", "ops", "--role", "editor", "--password-stdin"],
        Some("a long password\n"),
    );
    assert!(out.status.success(), "{out:?}");
    let out = switchyard(
        &db,
        &["user", "add", "bad", "--role", "root", "--password-stdin"],
        Some("a long password\n"),
    );
    assert!(!out.status.success());
    let out = switchyard(&db, &["token", "create", "ops"], None);
    assert!(out.status.success(), "{out:?}");
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(token.starts_with("sy_"), "{token}");
    let out = switchyard(&db, &["token", "create", "nobody"], None);
    assert!(!out.status.success());

    let mut settings = crate::common::test_settings(&path);
    settings.database = db;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app = switchyard::App::build(settings, listener).await.unwrap();
    assert!(app.setup_url.is_none(), "a user exists: no setup link");
    let base = format!("http://{}", app.addr);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run(async {
        let _ = rx.await;
    }));
    let me: serde_json::Value = reqwest::Client::new()
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["name"], "ops");
    assert_eq!(me["role"], "editor");
    tx.send(()).unwrap();
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn serve_prints_the_setup_link_and_stops_cleanly_on_sigterm() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("s.db").display());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    // No subcommand: `serve` is the default.
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .env("SWITCHYARD_LISTEN", &listen)
        .env("SWITCHYARD_DATABASE", &db)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let link = lines
        .by_ref()
        .map(|l| l.unwrap())
        .find(|l| l.contains("/setup?token="))
        .expect("the setup link on stdout");
    assert!(
        link.trim()
            .starts_with(&format!("http://{listen}/setup?token=")),
        "{link}"
    );
    let mut ok = false;
    for _ in 0..100 {
        if let Ok(r) = reqwest::get(format!("http://{listen}/healthz")).await
            && r.status() == 200
        {
            ok = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(ok, "healthz");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "clean exit on SIGTERM: {exit:?}");
}
