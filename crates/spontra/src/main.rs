//! `spontra`: serve the API (and web app), search, calendar and explore from the command line,
//! import schedules, and benchmark the engine.

use clap::Parser;

/// mimalloc rather than the system allocator: ingestion and the API allocate many short-lived
/// strings and buffers from several threads, where glibc's malloc spends its time merging and
/// splitting free chunks (measured in `docs/events.md`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let args = spontra::cli::Cli::parse();
    match spontra::cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(1)
        }
    }
}
