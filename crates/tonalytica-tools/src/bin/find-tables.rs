//! `find-tables URL KEY DATA_SOURCE_ID [--detail]`
use std::process::ExitCode;

use clap::Parser;
use tonalytica::Secret;
use tonalytica_tools::{commands, common};

/// Find table names referenced in queries against DATA_SOURCE_ID
#[derive(Debug, Parser)]
#[command(name = "find-tables", version)]
struct Args {
    /// Base URL of the instance.
    url: String,
    /// User API key.
    key: String,
    /// Numeric id of the data source.
    data_source_id: i64,
    /// Prints out all table/query pairs?
    #[arg(long)]
    detail: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    common::run(async move {
        let client = common::client(&args.url, Secret::new(args.key))?;
        let mut out = std::io::stdout().lock();
        commands::find_tables(&client, args.data_source_id, args.detail, &mut out).await
    })
}
