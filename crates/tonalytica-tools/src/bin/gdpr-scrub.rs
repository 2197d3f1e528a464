//! `gdpr-scrub REDASH_HOST [EMAIL]... [--api-key KEY]`
use std::process::ExitCode;

use clap::Parser;
use tonalytica_tools::{commands, common};

/// Search for EMAIL in queries and query results, output query URL if found.
#[derive(Debug, Parser)]
#[command(name = "gdpr-scrub", version)]
struct Args {
    /// Base URL of the instance, printed as given in front of each match.
    redash_host: String,
    /// Terms to look for (any substring, case-insensitive).
    email: Vec<String>,
    /// User API key [env: REDASH_API_KEY; prompted for otherwise].
    #[arg(long = "api-key")]
    api_key: Option<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    common::run(async move {
        let key = common::resolve_api_key(args.api_key)?;
        let client = common::client(&args.redash_host, key)?;
        let mut out = std::io::stdout().lock();
        commands::gdpr_scrub(&client, &args.redash_host, &args.email, &mut out).await
    })
}
