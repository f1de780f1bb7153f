//! The settings of CONTRACT.md §1: every one a flag with a `SWITCHYARD_*` twin (flag wins).

use clap::{Args, Parser, Subcommand, ValueEnum};
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GcpMode {
    /// The built-in simulated Google Cloud.
    Sandbox,
    /// The real Google Cloud APIs.
    Google,
}

#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Address the panel listens on.
    #[arg(
        long,
        env = "SWITCHYARD_LISTEN",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub listen: SocketAddr,
    /// SQLite database URL; the file is created when missing.
    #[arg(
        long,
        env = "SWITCHYARD_DATABASE",
        default_value = "sqlite://switchyard.db",
        global = true
    )]
    pub database: String,
    /// Which cloud the panel acts on.
    #[arg(
        long,
        env = "SWITCHYARD_GCP",
        value_enum,
        default_value = "sandbox",
        global = true
    )]
    pub gcp: GcpMode,
    /// Base URL of the Compute Engine v1 API.
    #[arg(
        long,
        env = "SWITCHYARD_COMPUTE_ENDPOINT",
        default_value = "https://compute.googleapis.com/compute/v1/",
        global = true
    )]
    pub compute_endpoint: String,
    /// Base URL of the Cloud Run Admin API.
    #[arg(
        long,
        env = "SWITCHYARD_RUN_ENDPOINT",
        default_value = "https://run.googleapis.com/",
        global = true
    )]
    pub run_endpoint: String,
    /// Seconds between periodic drift checks of every applied deployment; 0 turns them off.
    #[arg(
        long,
        env = "SWITCHYARD_DRIFT_INTERVAL",
        default_value_t = 600,
        global = true
    )]
    pub drift_interval: u64,
}
