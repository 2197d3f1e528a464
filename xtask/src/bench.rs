//! `cargo xtask bench`: regeneration time, client overhead and the cold build of one generated
//! crate, measured in one run on this machine. Timings live here, never in tests.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::workspace;

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Requests per client in the overhead benchmark.
    #[arg(long, default_value_t = 4000)]
    pub requests: usize,
    /// Skip the regeneration timings (the release build of xtask takes minutes the first time).
    #[arg(long)]
    pub skip_regenerate: bool,
    /// Skip the cold build measurement (about a minute on 2 cores).
    #[arg(long)]
    pub skip_cold_build: bool,
}

pub fn run(args: &BenchArgs) -> Result<(), String> {
    let root = workspace::root();
    if !args.skip_regenerate {
        regenerate_time(&root)?;
        regenerate_time_release(&root)?;
    }
    client_overhead(&root, args.requests)?;
    if !args.skip_cold_build {
        cold_build(&root, "monarc-stats")?;
    }
    Ok(())
}

/// Plans every crate (parse, check, view, generate, format) without writing, 10 times.
fn regenerate_time(root: &Path) -> Result<(), String> {
    let mut times: Vec<Duration> = Vec::new();
    let mut specs = 0;
    for _ in 0..10 {
        let start = Instant::now();
        let planned =
            workspace::plan(root).map_err(|p| format!("{} problem(s) in specs", p.len()))?;
        times.push(start.elapsed());
        specs = planned.len();
    }
    times.sort();
    let profile = if cfg!(debug_assertions) {
        "debug build of xtask, as `cargo xtask` runs it"
    } else {
        "release"
    };
    println!(
        "regenerate ({specs} spec(s), {profile}): median {:.1} ms, min {:.1} ms over 10 runs",
        ms(times[5]),
        ms(times[0])
    );
    Ok(())
}

/// The same work as `cargo xtask regenerate --check`, by a release build of xtask, as a process.
fn regenerate_time_release(root: &Path) -> Result<(), String> {
    let build = Command::new(env!("CARGO"))
        .current_dir(root)
        .args(["build", "--quiet", "--release", "-p", "xtask"])
        .status()
        .map_err(|e| format!("cannot build xtask: {e}"))?;
    if !build.success() {
        return Err("release build of xtask failed".to_string());
    }
    let exe = root.join("target/release/xtask");
    let mut times = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        let out = Command::new(&exe)
            .current_dir(root)
            .args(["regenerate", "--check"])
            .output()
            .map_err(|e| e.to_string())?;
        times.push(start.elapsed());
        if !out.status.success() {
            return Err(format!(
                "regenerate --check failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    times.sort();
    println!(
        "regenerate --check (all specs, release xtask process): median {:.0} ms, min {:.0} ms over 5 runs",
        ms(times[2]),
        ms(times[0])
    );
    Ok(())
}

fn client_overhead(root: &Path, requests: usize) -> Result<(), String> {
    let status = Command::new(env!("CARGO"))
        .current_dir(root)
        .args([
            "bench",
            "--quiet",
            "-p",
            "client-benches",
            "--bench",
            "client_overhead",
            "--",
        ])
        .arg(requests.to_string())
        .status()
        .map_err(|e| format!("cannot run cargo bench: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err("the client overhead benchmark failed".to_string())
    }
}

/// A new project depending on the crate alone, built from an empty target directory with 2 jobs,
/// with the workspace's lock file so the same versions are compiled.
fn cold_build(root: &Path, krate: &str) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("xtask-cold-build-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).map_err(|e| e.to_string())?;
    let manifest = format!(
        "[package]\nname = \"cold-build-probe\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[dependencies]\n{krate} = {{ path = \"{}\" }}\n\n[workspace]\n",
        root.join("crates").join(krate).display()
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).map_err(|e| e.to_string())?;
    std::fs::write(
        dir.join("src/main.rs"),
        format!(
            "fn main() {{ let _ = {}::API.title; }}\n",
            krate.replace('-', "_")
        ),
    )
    .map_err(|e| e.to_string())?;
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).map_err(|e| e.to_string())?;

    // Download first so that the measurement is compile time only.
    let fetch = Command::new(env!("CARGO"))
        .current_dir(&dir)
        .arg("fetch")
        .output()
        .map_err(|e| e.to_string())?;
    if !fetch.status.success() {
        return Err(format!(
            "cargo fetch failed: {}",
            String::from_utf8_lossy(&fetch.stderr)
        ));
    }
    let start = Instant::now();
    let out = Command::new(env!("CARGO"))
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .args(["build", "--jobs", "2"])
        .output()
        .map_err(|e| e.to_string())?;
    let elapsed = start.elapsed();
    let log = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("cold build failed:\n{log}"));
    }
    let crates = log
        .lines()
        .filter(|l| l.trim_start().starts_with("Compiling"))
        .count();
    println!(
        "cold debug build of `{krate}` alone (empty target dir, --jobs 2): {:.1} s, {crates} crates compiled",
        elapsed.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
