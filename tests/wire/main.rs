//! Wire-level tests: each generated client against a local server it starts itself.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod monarc_stats;
