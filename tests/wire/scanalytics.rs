//! Wire-level tests of the scanalytics client against local servers (issue 5).
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
