//! `cargo xtask bench`: every performance figure of the workspace, measured in one run on this
//! machine and printed as one table: regeneration time, requests/s of each client against raw
//! reqwest + serde_json, large decodes with their peak memory, streamed transfers with their
//! resident memory, and the cold build of one generated crate. Timings live here, never in tests.
//!
//! The client figures come from the bench binaries of `benches/` (run in release mode), which
//! print `RESULT` lines (see `client_benches::result`) that this module gathers.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::workspace;

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Requests per side in the requests/s benchmark (80 sequential and 16 concurrent rounds per
    /// side at 8000: fewer made the medians swing by a few percent between runs on a 2-core VM).
    #[arg(long, default_value_t = 8000)]
    pub requests: usize,
    /// Skip the regeneration timings (the release build of xtask takes minutes the first time).
    #[arg(long)]
    pub skip_regenerate: bool,
    /// Skip the cold build measurement (about a minute on 2 cores).
    #[arg(long)]
    pub skip_cold_build: bool,
}

/// One row of the table.
struct Figure {
    section: String,
    name: String,
    value: f64,
    unit: String,
}

pub fn run(args: &BenchArgs) -> Result<(), String> {
    let root = workspace::root();
    let mut table = Vec::new();
    if !args.skip_regenerate {
        table.push(regenerate_time(&root)?);
        table.push(regenerate_time_release(&root)?);
    }
    let requests = args.requests.to_string();
    for (bench, extra) in [
        ("throughput", vec![requests.as_str()]),
        ("decode", vec![]),
        ("streaming", vec![]),
    ] {
        table.extend(client_bench(&root, bench, &extra)?);
    }
    if !args.skip_cold_build {
        table.push(cold_build(&root, "monarc-stats")?);
    }
    print_table(&table);
    Ok(())
}

fn print_table(table: &[Figure]) {
    println!();
    println!("| section | figure | value |");
    println!("| --- | --- | ---: |");
    for f in table {
        let value = if f.value >= 100.0 {
            format!("{:.0}", f.value)
        } else {
            format!("{:.2}", f.value)
        };
        println!("| {} | {} | {value} {} |", f.section, f.name, f.unit);
    }
}

/// Runs one bench binary of `client-benches`, echoing its report and keeping its `RESULT` lines.
fn client_bench(root: &Path, bench: &str, args: &[&str]) -> Result<Vec<Figure>, String> {
    let out = Command::new(env!("CARGO"))
        .current_dir(root)
        .args([
            "bench",
            "--quiet",
            "-p",
            "client-benches",
            "--bench",
            bench,
            "--",
        ])
        .args(args)
        .output()
        .map_err(|e| format!("cannot run cargo bench: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut figures = Vec::new();
    for line in stdout.lines() {
        match line.strip_prefix("RESULT\t") {
            Some(fields) => {
                let f: Vec<&str> = fields.split('\t').collect();
                if let [section, name, value, unit] = f[..] {
                    figures.push(Figure {
                        section: section.to_string(),
                        name: name.to_string(),
                        value: value.parse().map_err(|_| format!("bad figure `{line}`"))?,
                        unit: unit.to_string(),
                    });
                }
            }
            None => println!("{line}"),
        }
    }
    if out.status.success() {
        Ok(figures)
    } else {
        Err(format!(
            "the `{bench}` benchmark failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn figure(section: &str, name: &str, value: f64, unit: &str) -> Figure {
    Figure {
        section: section.to_string(),
        name: name.to_string(),
        value,
        unit: unit.to_string(),
    }
}

/// Plans every crate (parse, check, view, generate, format) without writing, 10 times.
fn regenerate_time(root: &Path) -> Result<Figure, String> {
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
    Ok(figure(
        "cargo xtask regenerate",
        &format!("{specs} specs in process ({profile}), median"),
        ms(times[5]),
        "ms",
    ))
}

/// The same work as `cargo xtask regenerate --check`, by a release build of xtask, as a process.
fn regenerate_time_release(root: &Path) -> Result<Figure, String> {
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
    Ok(figure(
        "cargo xtask regenerate",
        "regenerate --check, release xtask process, median",
        ms(times[2]),
        "ms",
    ))
}

/// A new project depending on the crate alone, built from an empty target directory with 2 jobs,
/// with the workspace's lock file so the same versions are compiled.
fn cold_build(root: &Path, krate: &str) -> Result<Figure, String> {
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
    Ok(figure(
        "cold build",
        &format!("debug build of `{krate}` alone, --jobs 2 ({crates} crates)"),
        elapsed.as_secs_f64(),
        "s",
    ))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
