//! Workspace automation, as a library so that tests call the same functions as the command line.
//!
//! `specs/*.yaml` ──[`spec::load`]──▶ checked document ──[`view::derive`]──▶ generation view
//! ──[`codegen::generate`] (progenitor, then [`postprocess::apply`])──▶ formatted source ──[`ensure::ensure_file_contents`]──▶ `crates/<name>/src/generated.rs`

pub mod bench;
pub mod codegen;
pub mod commands;
pub mod diff;
pub mod ensure;
pub mod inventory;
pub mod lint;
pub mod postprocess;
pub mod problem;
pub mod spec;
pub mod view;
pub mod workspace;

#[cfg(test)]
mod freshness {
    /// The rust-analyzer pattern: plain `cargo test` fails when a checked-in generated file is
    /// stale, with the same diff `cargo xtask regenerate --check` prints.
    #[test]
    fn generated_crates_are_fresh() {
        let root = crate::workspace::root();
        let summary = crate::workspace::regenerate(&root, true).unwrap_or_else(|problems| {
            let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
            panic!("specs cannot be generated:\n{}", lines.join("\n"))
        });
        let stale: Vec<String> = summary
            .stale
            .iter()
            .map(|(p, diff)| format!("{}\n{diff}", p.display()))
            .collect();
        assert!(
            stale.is_empty(),
            "generated files are stale; run `cargo xtask regenerate` and commit:\n{}",
            stale.join("\n")
        );
    }
}
