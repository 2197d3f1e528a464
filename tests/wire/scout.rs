//! Wire-level tests of the scout client against local servers (issue 6).
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
