//! The four redash-toolbelt utility scripts for TONalytica, in Rust: `gdpr-scrub`,
//! `find-tables`, `clone-dashboard-and-queries` and `export-queries`. See the README for the
//! differences from the Python scripts.
#![forbid(unsafe_code)]

pub mod commands;
pub mod common;
pub mod tables;
