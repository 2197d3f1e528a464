//! Exports the rows of a data source to CSV through `POST /api/formatted_data/{uuid}`: first the
//! columns (`only_headers`), then every column row by row, as the official client's `get_data`.
//! At most 20 000 rows come back (the server's cap); the example says so when it is reached.
//!
//! ```sh
//! SERENYTICS_API_KEY=... cargo run -p serenytics --example export_csv -- <data source uuid> out.csv
//! ```

use std::io::Write;

use serde_json::Value;
use serenytics::{types, Auth, CheckedSend, Client, ClientConfig};

/// The server's row cap: exactly this many rows means the result was cut.
pub const ROW_CAP: usize = 20_000;

/// One CSV field (RFC 4180): quoted when it holds a comma, quote or line break.
pub fn csv_field(value: &Value) -> String {
    let text = match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(_) | Value::Number(_) => value.to_string(),
        other => other.to_string(),
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// Writes the header line and every row; returns the number of rows.
pub async fn export_csv(
    client: &Client,
    uuid: uuid::Uuid,
    out: &mut impl Write,
) -> Result<usize, Box<dyn std::error::Error>> {
    let headers = client
        .query_formatted_data()
        .uuid(uuid)
        .body(types::FormattedDataRequest {
            only_headers: Some(true),
            ..Default::default()
        })
        .send_checked()
        .await?;
    let names: Vec<String> = headers.columns_titles.into_iter().map(|c| c.name).collect();
    let query = types::FormattedDataRequest {
        order: Some("row_by_row".into()),
        data_processing_pipeline: vec![types::PipelineStep {
            select: names
                .iter()
                .cloned()
                .map(types::ColumnRef::String)
                .collect(),
            ..Default::default()
        }],
        ..Default::default()
    };
    let result = client
        .query_formatted_data()
        .uuid(uuid)
        .body(query)
        .send_checked()
        .await?;
    let header: Vec<String> = names
        .iter()
        .map(|n| csv_field(&Value::String(n.clone())))
        .collect();
    writeln!(out, "{}", header.join(","))?;
    let rows = result.data.unwrap_or_default();
    for row in &rows {
        // Each row is decoded only now, one at a time.
        let values: Vec<Value> = row.decode()?;
        let fields: Vec<String> = values.iter().map(csv_field).collect();
        writeln!(out, "{}", fields.join(","))?;
    }
    Ok(rows.len())
}

#[cfg_attr(test, allow(dead_code))]
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url =
        std::env::var("SERENYTICS_URL").unwrap_or_else(|_| "https://api.serenytics.com".into());
    let key = std::env::var("SERENYTICS_API_KEY").map_err(|_| "set SERENYTICS_API_KEY")?;
    let mut args = std::env::args().skip(1);
    let uuid: uuid::Uuid = args
        .next()
        .ok_or("usage: export_csv <uuid> [out.csv]")?
        .parse()?;
    let client = Client::new_with_client(&url, ClientConfig::new().build()?, Auth::api_key(key));
    let rows = match args.next() {
        Some(path) => {
            let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
            let rows = export_csv(&client, uuid, &mut file).await?;
            file.flush()?;
            rows
        }
        None => export_csv(&client, uuid, &mut std::io::stdout().lock()).await?,
    };
    eprintln!("{rows} rows exported");
    if rows == ROW_CAP {
        eprintln!("warning: {ROW_CAP} rows is the server's cap; the export is probably incomplete");
    }
    Ok(())
}
