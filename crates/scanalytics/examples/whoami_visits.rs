//! Prints who you are and a week of hourly visits of one array.
//!
//! ```sh
//! SCANALYTICS_CLIENT_ID=... SCANALYTICS_USERNAME=... SCANALYTICS_PASSWORD=... \
//! SCANALYTICS_ARRAY_KEY=1AMDJ cargo run -p scanalytics --example whoami_visits
//! ```
//!
//! Optional: `SCANALYTICS_BASE_URL` (default the production server), `SCANALYTICS_TIMEZONE`
//! (default `UTC`: the window is the last seven whole days in UTC, and the server reads `start`
//! and `end` in this zone), `SCANALYTICS_TOKEN_FILE` (where tokens are kept between runs,
//! default `scanalytics-tokens.json`). With `SCANALYTICS_CLIENT_SECRET` and no username, the
//! client-credentials grant is used instead of the password grant.

use scanalytics::oauth2::FileTokenStore;
use scanalytics::{ApiError, ClientBuilder};

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client_id = env("SCANALYTICS_CLIENT_ID").ok_or("set SCANALYTICS_CLIENT_ID")?;
    let array_key = env("SCANALYTICS_ARRAY_KEY").ok_or("set SCANALYTICS_ARRAY_KEY")?;
    let timezone = env("SCANALYTICS_TIMEZONE").unwrap_or_else(|| "UTC".into());
    let token_file =
        env("SCANALYTICS_TOKEN_FILE").unwrap_or_else(|| "scanalytics-tokens.json".into());

    let mut builder = ClientBuilder::new().token_store(FileTokenStore::new(token_file));
    if let Some(url) = env("SCANALYTICS_BASE_URL") {
        builder = builder.base_url(url);
    }
    builder = match (
        env("SCANALYTICS_USERNAME"),
        env("SCANALYTICS_CLIENT_SECRET"),
    ) {
        (Some(user), _) => {
            let password = env("SCANALYTICS_PASSWORD").ok_or("set SCANALYTICS_PASSWORD")?;
            builder.password(client_id, user, password)
        }
        (None, Some(secret)) => builder.client_credentials(client_id, secret),
        (None, None) => builder.stored_tokens(client_id),
    };
    let client = builder.build()?;

    let me = client
        .get_current_user()
        .send()
        .await
        .map_err(ApiError::from)?
        .into_inner();
    println!(
        "whoami: {} {} <{}> ({})",
        me.first_name.as_deref().unwrap_or("?"),
        me.last_name.as_deref().unwrap_or("?"),
        me.email.as_deref().unwrap_or("?"),
        me.timezone.as_deref().unwrap_or("?"),
    );

    // The last seven days up to the current hour, as date-times without offset like the
    // tutorial's example.
    let end = chrono::Utc::now().naive_utc();
    let start = end - chrono::Duration::days(7);
    let format = "%Y-%m-%dT%H:00:00";
    let visits = client
        .get_visit_aggregates()
        .array_key(array_key.as_str())
        .bucket("1h")
        .start(start.format(format).to_string())
        .end(end.format(format).to_string())
        .timezone(timezone.as_str())
        .send()
        .await
        .map_err(ApiError::from)?
        .into_inner();
    println!(
        "hourly visits of {array_key}, {} .. {} ({timezone}):",
        start.format(format),
        end.format(format)
    );
    println!("{}", serde_json::to_string_pretty(&visits)?);
    Ok(())
}
