//! Wire-level tests of the serenytics client against local servers (issue 3).
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
