//! Helpers shared by the wire tests: render what a local server received, byte for byte, and a
//! raw TCP server for responses no HTTP library would send (truncated bodies).

use std::fmt::Write as _;
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Every request the mock server received, one block each:
///
/// ```text
/// GET /api/v2/stats/?_skip=0
/// accept: application/json
/// x-api-key: k
///
/// <body>
/// ```
///
/// Headers are sorted by name; `host` is left out (its port changes every run).
pub async fn received(server: &wiremock::MockServer) -> String {
    let mut out = String::new();
    for request in server.received_requests().await.unwrap_or_default() {
        render(&mut out, &request);
    }
    out
}

fn render(out: &mut String, request: &wiremock::Request) {
    let url = &request.url;
    let query = url.query().map(|q| format!("?{q}")).unwrap_or_default();
    let _ = writeln!(out, "{} {}{}", request.method, url.path(), query);
    let mut headers: Vec<(String, String)> = request
        .headers
        .iter()
        .filter(|(name, _)| name.as_str() != "host")
        .map(|(name, value)| {
            (
                name.to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    headers.sort();
    for (name, value) in headers {
        let _ = writeln!(out, "{name}: {value}");
    }
    if !request.body.is_empty() {
        let _ = writeln!(out, "\n{}", String::from_utf8_lossy(&request.body));
    }
    out.push_str("--\n");
}

/// Serves `response` (raw bytes, status line included) to each connection, then closes it.
pub async fn raw_server(response: &'static [u8]) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = vec![0u8; 16 * 1024];
            let mut seen = Vec::new();
            while let Ok(n) = socket.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                seen.extend_from_slice(&buf[..n]);
                if seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            let _ = socket.write_all(response).await;
            let _ = socket.shutdown().await;
        }
    });
    addr
}
