//! The single-login server binary: serves the app, or runs an operator command.

use clap::Parser;
use server::cli::{run, Cli};
use tracing_subscriber::EnvFilter;

// A page's many small, short-lived allocations (the rendered HTML, the reactive graph's
// nodes, headers) cost glibc's malloc a third of the server's CPU under load. jemalloc and
// mimalloc took the same share of it away; jemalloc kept the least memory, at rest and
// under a login flood (docs/benchmarks.md).
#[cfg(not(any(feature = "mimalloc", feature = "system-allocator")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[cfg(all(feature = "mimalloc", not(feature = "system-allocator")))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
