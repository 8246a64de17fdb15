//! `spontra`: serve the API (and web app), search, calendar and explore from the command line,
//! import schedules, and benchmark the engine.

mod app;
mod bench;
mod cli;
mod config;
mod world;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(1)
        }
    }
}
