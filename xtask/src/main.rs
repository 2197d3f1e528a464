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
    /// Check every spec: structure, examples against schemas, house rules.
    Lint,
    /// Write each lint-clean spec as one self-contained YAML and JSON file into dist/.
    Bundle,
    /// Classify each spec's changes since a git revision; fail on a breaking change without a
    /// major version bump.
    Diff {
        /// The revision to compare with (e.g. `origin/main`, `HEAD~1`).
        rev: String,
    },
    /// Measure regeneration time, client overhead and cold build time (release mode).
    Bench(xtask::bench::BenchArgs),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Regenerate { check } => regenerate(check),
        Command::Lint => report(xtask::commands::lint(&xtask::workspace::root())),
        Command::Bundle => report(xtask::commands::bundle(&xtask::workspace::root())),
        Command::Diff { rev } => report(xtask::commands::diff(&xtask::workspace::root(), &rev)),
        Command::Bench(args) => match xtask::bench::run(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
    }
}

/// Prints a command's lines; its `Err` lines go to stderr and fail the command.
fn report(result: Result<Vec<String>, Vec<String>>) -> ExitCode {
    match result {
        Ok(lines) => {
            lines.iter().for_each(|l| println!("{l}"));
            ExitCode::SUCCESS
        }
        Err(lines) => {
            lines.iter().for_each(|l| eprintln!("{l}"));
            ExitCode::FAILURE
        }
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
