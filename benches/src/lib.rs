//! What the benchmark binaries share: a loopback HTTP/1.1 server, memory readings from `/proc`,
//! and the `RESULT` lines `cargo xtask bench` gathers into its table.
#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used)] // benchmark code: a failed unwrap is a failed run

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// How the server answers one request: from the request line (`GET /path HTTP/1.1`) to a status
/// and body. Answers are `'static` so that serving a 10 MB body costs no copy per request.
pub type Router = Arc<dyn Fn(&str) -> Answer + Send + Sync>;

/// A response of the bench server.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    /// `200` with a JSON body.
    Json(&'static [u8]),
    /// `200` with an `application/octet-stream` body of `len` bytes, generated in 64 KiB pieces
    /// (never held whole).
    Stream { len: u64 },
}

/// Leaks `bytes` so that the server can answer with them for the rest of the process.
pub fn leak(bytes: Vec<u8>) -> &'static [u8] {
    Box::leak(bytes.into_boxed_slice())
}

/// Starts a keep-alive HTTP/1.1 server on 127.0.0.1 (request bodies are read and dropped) and
/// returns its base URL.
pub async fn serve(router: Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let _ = socket.set_nodelay(true);
            let router = router.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
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
                    let head = String::from_utf8_lossy(&pending[..end]).into_owned();
                    let length: usize = head
                        .to_ascii_lowercase()
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    pending.drain(..end);
                    let mut left = length;
                    let take = left.min(pending.len());
                    pending.drain(..take);
                    left -= take;
                    while left > 0 {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => {
                                let used = n.min(left);
                                left -= used;
                                pending.extend_from_slice(&buf[used..n]);
                            }
                        }
                    }
                    let line = head.lines().next().unwrap_or_default();
                    let ok = match router(line) {
                        Answer::Json(body) => {
                            let head = format!(
                                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                                body.len()
                            );
                            socket.write_all(head.as_bytes()).await.is_ok()
                                && socket.write_all(body).await.is_ok()
                        }
                        Answer::Stream { len } => stream(&mut socket, len).await,
                    };
                    if !ok {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

/// [`serve`] on a thread and single-threaded runtime of its own, so that a client on a
/// single-threaded runtime and the server each have one of two cores instead of three threads
/// competing for them (which made request rates swing by a third between runs).
pub fn serve_on_own_thread(router: Router) -> String {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            sender.send(serve(router).await).unwrap();
            std::future::pending::<()>().await;
        });
    });
    receiver.recv().unwrap()
}

async fn stream(socket: &mut tokio::net::TcpStream, len: u64) -> bool {
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: {len}\r\n\r\n"
    );
    if socket.write_all(head.as_bytes()).await.is_err() {
        return false;
    }
    let piece = vec![0x5au8; 64 * 1024];
    let mut left = len;
    while left > 0 {
        let n = left.min(piece.len() as u64) as usize;
        if socket.write_all(&piece[..n]).await.is_err() {
            return false;
        }
        left -= n as u64;
    }
    true
}

/// A field of `/proc/self/status` in KiB (`VmRSS`, `VmHWM`), 0 when unavailable.
pub fn proc_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// Resets the peak-RSS mark (`VmHWM`) to the current RSS; false where the kernel refuses.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Bytes by which the resident set peaked above its level when `measure` started.
pub async fn peak_growth<T>(measure: impl std::future::Future<Output = T>) -> (u64, T) {
    let reset = reset_peak_rss();
    assert!(reset, "cannot reset VmHWM (/proc/self/clear_refs)");
    let before = proc_kib("VmRSS");
    let out = measure.await;
    let peak = proc_kib("VmHWM");
    (peak.saturating_sub(before) * 1024, out)
}

pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// One figure for `cargo xtask bench`'s table: `RESULT<TAB>section<TAB>name<TAB>value<TAB>unit`.
pub fn result(section: &str, name: &str, value: f64, unit: &str) {
    println!("RESULT\t{section}\t{name}\t{value:.3}\t{unit}");
}

/// Runs each named mode of this bench binary in a fresh child process (peak-memory figures are
/// per process), forwarding its output; `child` runs one mode when this process is a child.
pub fn run_modes(env: &str, modes: &[&str], child: impl FnOnce(&str)) {
    if let Ok(mode) = std::env::var(env) {
        child(&mode);
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    for mode in modes {
        if !filter.is_empty() && !filter.iter().any(|f| mode.contains(f.as_str())) {
            continue;
        }
        let status = std::process::Command::new(&exe)
            .env(env, mode)
            .status()
            .unwrap();
        assert!(status.success(), "{mode} failed");
    }
}

/// A multi-threaded runtime with two workers (the CI machine has two cores).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}
