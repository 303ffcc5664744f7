//! `voxgate-surreal`: the `surreal` command-line server (SurrealDB 3.3.5, the version of
//! Voxgate's client) built from the registry, for tests and for operators without a
//! SurrealDB install: `voxgate-surreal start --bind 127.0.0.1:8000 --user root --pass … memory`
//! (or `surrealkv://path`). Voxgate itself does not link it.

// The release build lays out SurrealDB's deeply nested async expression evaluator, past the
// default query depth of 128 (the debug build does not).
#![recursion_limit = "256"]

use std::process::ExitCode;

use surrealdb_server::core::CommunityComposer;

#[allow(unsafe_code)]
fn main() -> ExitCode {
    // `surreal` asks SurrealDB's website for a newer release at every start; this machine (and a
    // test host) may reach no outside address, so the check is off unless asked for.
    if std::env::var_os("SURREAL_ONLINE_VERSION_CHECK").is_none() {
        // SAFETY: no other thread exists yet (the runtime starts inside `init`).
        unsafe { std::env::set_var("SURREAL_ONLINE_VERSION_CHECK", "false") };
    }
    surrealdb_server::init(CommunityComposer())
}
