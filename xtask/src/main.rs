//! `cargo xtask <command>`: see `cargo xtask --help`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Workspace automation for the analytics API clients"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Rebuild every generated crate from specs/*.yaml.
    Regenerate {
        /// Write nothing; fail with a diff when a checked-in file is stale.
        #[arg(long)]
        check: bool,
    },
    /// Measure regeneration time, client overhead and cold build time (release mode).
    Bench(xtask::bench::BenchArgs),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Regenerate { check } => regenerate(check),
        Command::Bench(args) => match xtask::bench::run(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
    }
}

fn regenerate(check: bool) -> ExitCode {
    let root = xtask::workspace::root();
    match xtask::workspace::regenerate(&root, check) {
        Err(problems) => {
            for p in &problems {
                eprintln!("error: {p}");
            }
            eprintln!("{} problem(s); nothing was written.", problems.len());
            ExitCode::FAILURE
        }
        Ok(summary) if check && !summary.stale.is_empty() => {
            for (path, diff) in &summary.stale {
                eprintln!(
                    "stale: {}\n{diff}",
                    path.strip_prefix(&root).unwrap_or(path).display()
                );
            }
            eprintln!(
                "{} generated file(s) are stale: run `cargo xtask regenerate` and commit the result.",
                summary.stale.len()
            );
            ExitCode::FAILURE
        }
        Ok(summary) => {
            for path in &summary.updated {
                println!(
                    "updated {}",
                    path.strip_prefix(&root).unwrap_or(path).display()
                );
            }
            println!(
                "{} crate(s) {}: {}",
                summary.crates.len(),
                if check { "up to date" } else { "regenerated" },
                summary.crates.join(", ")
            );
            ExitCode::SUCCESS
        }
    }
}
