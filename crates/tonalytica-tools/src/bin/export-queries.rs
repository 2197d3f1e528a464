//! `export-queries REDASH_URL [--api-key KEY]`
use std::process::ExitCode;

use clap::Parser;
use tonalytica_tools::{commands, common};

/// Export every query as `query_<id>.sql` in the current directory.
#[derive(Debug, Parser)]
#[command(name = "export-queries", version)]
struct Args {
    /// Base URL of the instance.
    redash_url: String,
    /// User API key [env: REDASH_API_KEY; prompted for otherwise].
    #[arg(long = "api-key")]
    api_key: Option<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    common::run(async move {
        let key = common::resolve_api_key(args.api_key)?;
        let client = common::client(&args.redash_url, key)?;
        commands::export_queries(&client, std::path::Path::new(".")).await?;
        Ok(())
    })
}
