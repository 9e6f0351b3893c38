//! The single-login server binary: serves the app, or runs an operator command.

use clap::Parser;
use server::cli::{run, Cli};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("single-login: {}", app::ssr::error_chain(&*error));
            std::process::ExitCode::FAILURE
        }
    }
}
