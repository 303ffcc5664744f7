//! Voxgate against a genuine SurrealDB server (`voxgate-surreal start`, the `surreal` binary's
//! entry point): one server process per test on a free loopback port, killed at the end.
//!
//! The binary is built on its own (`cargo build -p voxgate-surreal`, as the test command does):
//! built in the same cargo run as these tests, its dependencies' features would join the
//! server's and cargo would build the server crate a second time.

mod auth;
mod harness;
mod migrations;
mod ws;
