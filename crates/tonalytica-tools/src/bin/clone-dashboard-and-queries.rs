//! `clone-dashboard-and-queries REDASH_HOST SLUG PREFIX [--api-key KEY]`
use std::process::ExitCode;

use clap::Parser;
use tonalytica_tools::{commands, common};

/// Copy a dashboard, its queries (renamed PREFIX + name) and its widgets.
#[derive(Debug, Parser)]
#[command(name = "clone-dashboard-and-queries", version)]
struct Args {
    /// Base URL of the instance.
    redash_host: String,
    /// The dashboard's slug (as in its URL) or numeric id.
    slug: String,
    /// Prepended to each copied query's name (no space added).
    prefix: String,
    /// User API key [env: REDASH_API_KEY; prompted for otherwise].
    #[arg(long = "api-key")]
    api_key: Option<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    common::run(async move {
        let key = common::resolve_api_key(args.api_key)?;
        let client = common::client(&args.redash_host, key)?;
        commands::clone_dashboard_and_queries(&client, &args.slug, &args.prefix).await
    })
}
