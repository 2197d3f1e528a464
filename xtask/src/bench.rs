//! `cargo xtask bench` (filled in below).
#[derive(Debug, clap::Args)]
pub struct BenchArgs {}
pub fn run(_args: &BenchArgs) -> Result<(), String> {
    Err("not yet".into())
}
