//! Backs up every dashboard and script of an account into a folder of JSON files (scripts' code
//! also goes to a `.py` file beside its JSON), like the backup script of the Serenytics docs.
//!
//! ```sh
//! SERENYTICS_API_KEY=... cargo run -p serenytics --example backup -- ./serenytics_backup
//! # SERENYTICS_URL defaults to https://api.serenytics.com (set it for on-premises servers)
//! ```

use std::path::{Path, PathBuf};

use futures::TryStreamExt;
use serenytics::{Auth, Client, ClientConfig, ListStreams};

/// What a backup wrote.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub web_apps: usize,
    pub scripts: usize,
    pub files: Vec<PathBuf>,
}

/// A file name from an object name: no path separators or control characters, uuid appended so
/// that two objects with the same name do not overwrite each other.
pub fn file_stem(name: &str, uuid: &uuid::Uuid) -> String {
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '/' | '\\' | ':' | '\0') {
                '_'
            } else {
                c
            }
        })
        .collect();
    format!("{}-{uuid}", clean.trim())
}

fn write_json(path: &Path, value: &serde_json::Value) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
    std::fs::write(path, text + "\n")
}

/// Writes `<dir>/web_apps/<name>-<uuid>.json` for every dashboard and
/// `<dir>/scripts/<name>-<uuid>.json` (+ `.py` with the code) for every script.
pub async fn backup(client: &Client, dir: &Path) -> Result<Summary, Box<dyn std::error::Error>> {
    let mut summary = Summary::default();
    let web_apps_dir = dir.join("web_apps");
    let scripts_dir = dir.join("scripts");
    std::fs::create_dir_all(&web_apps_dir)?;
    std::fs::create_dir_all(&scripts_dir)?;

    let mut web_apps = std::pin::pin!(client.web_apps_stream(None, None));
    while let Some(web_app) = web_apps.try_next().await? {
        let path = web_apps_dir.join(format!("{}.json", file_stem(&web_app.name, &web_app.uuid)));
        write_json(&path, &serde_json::to_value(&web_app)?)?;
        summary.web_apps += 1;
        summary.files.push(path);
    }

    let mut scripts = std::pin::pin!(client.scripts_stream(None, None));
    while let Some(mut script) = scripts.try_next().await? {
        let stem = file_stem(&script.name, &script.uuid);
        if let Some(code) = script.code.take() {
            let path = scripts_dir.join(format!("{stem}.py"));
            std::fs::write(&path, code)?;
            summary.files.push(path);
        }
        let path = scripts_dir.join(format!("{stem}.json"));
        write_json(&path, &serde_json::to_value(&script)?)?;
        summary.scripts += 1;
        summary.files.push(path);
    }
    Ok(summary)
}

#[cfg_attr(test, allow(dead_code))]
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url =
        std::env::var("SERENYTICS_URL").unwrap_or_else(|_| "https://api.serenytics.com".into());
    let key = std::env::var("SERENYTICS_API_KEY").map_err(|_| "set SERENYTICS_API_KEY")?;
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "./serenytics_backup".into());
    let client = Client::new_with_client(&url, ClientConfig::new().build()?, Auth::api_key(key));
    let summary = backup(&client, Path::new(&dir)).await?;
    println!(
        "{} dashboards and {} scripts saved in {dir}",
        summary.web_apps, summary.scripts
    );
    Ok(())
}
