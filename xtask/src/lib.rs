//! Workspace automation, as a library so that tests call the same functions as the command line.
//!
//! `specs/*.yaml` ──[`spec::load`]──▶ checked document ──[`view::derive`]──▶ generation view
//! ──[`codegen::generate`]──▶ formatted source ──[`ensure::ensure_file_contents`]──▶ `crates/<name>/src/generated.rs`

pub mod codegen;
pub mod ensure;
pub mod inventory;
pub mod problem;
pub mod spec;
pub mod view;
pub mod workspace;
pub mod bench;
