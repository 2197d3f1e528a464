//! The issue's command benchmark (not a test; nothing asserts on time): `export-queries` of
//! 10 000 queries (100 pages of 100) against a loopback server, wall time and requests/s, next
//! to the Python `export-queries` of redash-toolbelt on the same server when one is given:
//!
//! ```sh
//! cargo bench -p tonalytica-tools --bench export_queries
//! PYTHON_EXPORT_QUERIES=/path/to/venv/bin/export-queries cargo bench -p tonalytica-tools --bench export_queries
//! ```
#![allow(clippy::unwrap_used)] // a bench binary: a failed unwrap is a failed run

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const QUERIES: u64 = 10_000;
const PAGE_SIZE: u64 = 100;

fn page(number: u64) -> Vec<u8> {
    let results: Vec<_> = ((number - 1) * PAGE_SIZE + 1..=(number * PAGE_SIZE).min(QUERIES))
        .map(|id| {
            json!({
                "id": id, "latest_query_data_id": null, "name": format!("Query {id}"),
                "description": null,
                "query": format!("SELECT u.id, e.kind\nFROM users u\nJOIN events e ON u.id = e.user_id\nWHERE e.id > {id}"),
                "query_hash": "4d8e3f1c9a0b2e7d6c5b4a3f2e1d0c9b", "schedule": null,
                "api_key": "Vx3kP9qLm2Zr8TbN4cYw7HdJ1sFgA6eKuQ0oRtXi", "is_archived": false,
                "is_draft": false, "updated_at": "2023-06-01T10:00:00.123Z",
                "created_at": "2023-05-30T08:15:42Z", "data_source_id": 1,
                "options": {"parameters": []}, "version": 1, "tags": ["bench"], "is_safe": true,
                "user": {"id": 1, "name": "Alice", "email": "alice@example.org",
                    "profile_image_url": "x", "groups": [1], "updated_at": "2023-06-01T09:00:00Z",
                    "created_at": "2023-01-10T12:00:00Z", "disabled_at": null, "is_disabled": false,
                    "active_at": null, "is_invitation_pending": false, "is_email_verified": true,
                    "auth_type": "password"},
                "last_modified_by_id": 1, "retrieved_at": null, "runtime": null, "is_favorite": false
            })
        })
        .collect();
    serde_json::to_vec(
        &json!({"count": QUERIES, "page": number, "page_size": PAGE_SIZE, "results": results}),
    )
    .unwrap()
}

/// Keep-alive HTTP/1.1 server answering `GET /api/queries?page=N…` with page N; counts requests.
async fn serve(counter: Arc<AtomicU64>) -> String {
    let pages: Arc<Vec<Vec<u8>>> = Arc::new((1..=QUERIES.div_ceil(PAGE_SIZE)).map(page).collect());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let pages = pages.clone();
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                let mut pending: Vec<u8> = Vec::new();
                loop {
                    let end = loop {
                        if let Some(p) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                            break p + 4;
                        }
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => pending.extend_from_slice(&buf[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&pending[..end]).to_string();
                    pending.drain(..end);
                    counter.fetch_add(1, Ordering::Relaxed);
                    let line = head.lines().next().unwrap_or("");
                    let number: usize = line
                        .split(['?', '&', ' '])
                        .find_map(|p| p.strip_prefix("page="))
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(1);
                    let body = &pages[number.clamp(1, pages.len()) - 1];
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                        body.len()
                    );
                    if socket.write_all(head.as_bytes()).await.is_err()
                        || socket.write_all(body).await.is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("export-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn measure(label: &str, program: &str, base: &str, counter: &Arc<AtomicU64>) {
    let dir = scratch(label);
    counter.store(0, Ordering::Relaxed);
    let (program, base, run_dir) = (program.to_string(), base.to_string(), dir.clone());
    let started = Instant::now();
    let status = tokio::task::spawn_blocking(move || {
        Command::new(program)
            .arg(base)
            .current_dir(run_dir)
            .env("REDASH_API_KEY", "bench-key")
            .status()
            .unwrap()
    })
    .await
    .unwrap();
    let wall = started.elapsed();
    assert!(status.success(), "{label} failed");
    let files = std::fs::read_dir(&dir).unwrap().count();
    let requests = counter.load(Ordering::Relaxed);
    println!(
        "{label}: {files} files, {requests} requests in {:.0} ms ({:.0} requests/s, {:.0} queries/s)",
        wall.as_secs_f64() * 1e3,
        requests as f64 / wall.as_secs_f64(),
        files as f64 / wall.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let counter = Arc::new(AtomicU64::new(0));
        let base = serve(counter.clone()).await;
        println!(
            "{QUERIES} queries, {} pages of {PAGE_SIZE}",
            QUERIES.div_ceil(PAGE_SIZE)
        );
        for run in 1..=3 {
            measure(
                &format!("rust export-queries (run {run})"),
                env!("CARGO_BIN_EXE_export-queries"),
                &base,
                &counter,
            )
            .await;
        }
        match std::env::var("PYTHON_EXPORT_QUERIES") {
            Ok(python) => {
                for run in 1..=3 {
                    measure(
                        &format!("python export-queries (run {run})"),
                        &python,
                        &base,
                        &counter,
                    )
                    .await;
                }
            }
            Err(_) => println!("(set PYTHON_EXPORT_QUERIES to compare with the Python script)"),
        }
    });
}
