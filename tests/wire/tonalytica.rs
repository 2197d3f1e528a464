//! Wire-level tests of the tonalytica client against local servers (issue 4).
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
