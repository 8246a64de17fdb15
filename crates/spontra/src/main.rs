//! `spontra`: serve the API (and web app), search, calendar and explore from the command line,
//! import schedules, and benchmark the engine.

use clap::Parser;

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
