//! Logs in to a Scout instance that uses a self-signed certificate (trusted through its CA
//! certificate, never by turning verification off) and writes the run events of the last 24 hours
//! as JSON lines.
//!
//! ```sh
//! SCOUT_HOST=scout.example SCOUT_USERNAME=admin SCOUT_PASSWORD=… \
//! SCOUT_CA_PEM=/etc/scout/ca.pem \
//!   cargo run -p scout --example last_day_run_events > events.jsonl
//! ```
//!
//! `SCOUT_OUTPUT=path` writes to a file instead of stdout.

use std::io::Write;

use chrono::{Duration, Utc};
use futures::TryStreamExt;
use scout::{ClientConfig, ScoutPagesExt, TimeWindow};

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("set {name}"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let host = env("SCOUT_HOST")?;
    let username = env("SCOUT_USERNAME")?;
    let password = env("SCOUT_PASSWORD")?;
    let config = ClientConfig::new().with_root_certificate_pem_file(env("SCOUT_CA_PEM")?)?;

    let (client, session) = scout::login(&config, &host, &username, password).await?;
    eprintln!(
        "logged in to {} as {}",
        session.origin(),
        session.username()
    );

    let mut out: Box<dyn Write> = match std::env::var("SCOUT_OUTPUT") {
        Ok(path) => Box::new(std::io::BufWriter::new(std::fs::File::create(path)?)),
        Err(_) => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let window = TimeWindow::last(Duration::days(1), Utc::now());
    let events = client.run_events_stream(window, 100, |request| request);
    futures::pin_mut!(events);
    let mut count = 0u64;
    while let Some(event) = events.try_next().await? {
        serde_json::to_writer(&mut out, &event)?;
        out.write_all(b"\n")?;
        count += 1;
    }
    out.flush()?;
    eprintln!("{count} run events");
    Ok(())
}
