use clap::Parser;
use switchyard::cli::Cli;

fn main() -> std::process::ExitCode {
    switchyard::memory::tune_allocator();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the Tokio runtime")
        .block_on(run())
}

async fn run() -> std::process::ExitCode {
    let cli = Cli::parse();
    switchyard::telemetry::init();
    match switchyard::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
