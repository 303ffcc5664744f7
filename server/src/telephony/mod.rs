//! Telephony: provider webhooks and answers (pure builders/parsers per provider), the call
//! records they create, and the HTTP handlers Exotel calls.

pub mod calls;
pub mod exotel;
pub mod routes;
pub mod session;
