//! The command tree (`serve`, `migrate`, `user add`, `token create`, `sandbox`) and its dispatch
//! to the library.

use crate::config::Settings;
use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use std::net::SocketAddr;

#[derive(Debug, Parser)]
#[command(
    name = "switchyard",
    version,
    about = "Google Cloud load balancers in front of Cloud Run, from a web panel"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the panel: web UI, JSON API and job runner (the default).
    Serve,
    /// Apply the SQLite migrations and exit.
    Migrate,
    /// Manage team accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Run only the sandbox cloud (simulated Compute Engine and Cloud Run REST APIs).
    Sandbox {
        /// Address the sandbox listens on.
        #[arg(
            long,
            env = "SWITCHYARD_SANDBOX_LISTEN",
            default_value = "127.0.0.1:8085"
        )]
        listen: SocketAddr,
        /// Write the sandbox's service-account key (JSON, with its token_uri) to this file, so
        /// other tools can authenticate with it. Created with mode 0600.
        #[arg(long, env = "SWITCHYARD_SANDBOX_KEY_FILE")]
        key_file: Option<std::path::PathBuf>,
        #[command(flatten)]
        sandbox: crate::cloud::sandbox::SandboxArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user, or update its role and password (and enable it) when it exists.
    Add {
        /// The user name (letters, digits, '.', '_', '-', '@').
        name: String,
        /// viewer < editor < admin.
        #[arg(long)]
        role: crate::auth::Role,
        /// Read the password from the first line of standard input.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Print a new API token for that user (shown once, stored hashed).
    Create {
        /// The user the token acts as.
        name: String,
        /// A label to recognise the token by on the Users page.
        #[arg(long, default_value = "cli")]
        label: String,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let listener = tokio::net::TcpListener::bind(cli.settings.listen).await?;
            crate::serve(cli.settings, listener, shutdown_signal()).await
        }
        Command::Migrate => {
            let db = crate::db::connect(&cli.settings.database).await?;
            crate::db::migrate(&db).await?;
            println!("migrations applied to {}", cli.settings.database);
            Ok(())
        }
        Command::User(UserCommand::Add {
            name,
            role,
            password_stdin: _,
        }) => {
            crate::auth::validate_user_name(&name)?;
            let mut password = String::new();
            std::io::stdin()
                .read_line(&mut password)
                .context("reading the password from standard input")?;
            let password = password.trim_end_matches(['\n', '\r']).to_string();
            crate::auth::validate_password(&password)?;
            let db = crate::db::connect(&cli.settings.database).await?;
            crate::db::migrate(&db).await?;
            let hash = crate::auth::hash_password(password).await?;
            let user = crate::db::users::upsert(&db, &name, role, &hash).await?;
            println!("user {} saved with role {}", user.name, user.role);
            crate::audit::record(
                &db,
                "(command line)",
                crate::audit::Action::UserAdd,
                &crate::audit::user(&user.name),
                serde_json::json!({"role": user.role, "via": "switchyard user add"}),
            )
            .await;
            Ok(())
        }
        Command::Token(TokenCommand::Create { name, label }) => {
            let db = crate::db::connect(&cli.settings.database).await?;
            crate::db::migrate(&db).await?;
            let Some(user) = crate::db::users::by_name(&db, &name).await? else {
                bail!("no user named {name:?}; create it with `switchyard user add`");
            };
            if user.disabled {
                bail!("user {name:?} is disabled");
            }
            let secret = crate::auth::random_secret(crate::auth::TOKEN_PREFIX);
            crate::db::tokens::create(&db, user.id, &label, &crate::auth::token_hash(&secret))
                .await?;
            println!("{secret}");
            crate::audit::record(
                &db,
                "(command line)",
                crate::audit::Action::TokenCreate,
                &crate::audit::user(&user.name),
                serde_json::json!({"label": label, "via": "switchyard token create"}),
            )
            .await;
            Ok(())
        }
        Command::Sandbox {
            listen,
            key_file,
            sandbox,
        } => {
            let db = crate::db::connect(&cli.settings.database).await?;
            crate::db::migrate(&db).await?;
            let listener = tokio::net::TcpListener::bind(listen).await?;
            let handle = crate::cloud::sandbox::spawn(db, sandbox.to_config(), listener).await?;
            println!("sandbox cloud on {}", handle.base_url());
            println!("  --compute-endpoint {}", handle.compute_endpoint());
            println!("  --run-endpoint {}", handle.run_endpoint());
            println!(
                "  --resourcemanager-endpoint {}",
                handle.resourcemanager_endpoint()
            );
            println!(
                "  --certificatemanager-endpoint {}",
                handle.certificatemanager_endpoint()
            );
            println!("  --monitoring-endpoint {}", handle.monitoring_endpoint());
            println!("  token endpoint {}", handle.token_uri());
            if let Some(path) = key_file {
                write_private_file(&path, &handle.sandbox.service_account_key_json())?;
                println!("  service-account key written to {}", path.display());
            }
            shutdown_signal().await;
            handle.stop().await;
            Ok(())
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM so the server drains and exits cleanly.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutdown requested");
}

/// Writes a file only its owner can read (it holds a private key).
fn write_private_file(path: &std::path::Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_bytes())?;
    Ok(())
}
