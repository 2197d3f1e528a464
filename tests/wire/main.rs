//! Wire-level tests: each generated client against a local server it starts itself.

mod monarc_stats;
