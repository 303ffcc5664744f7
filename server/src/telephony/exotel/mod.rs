//! Exotel: what its applets send, what we answer (built, never concatenated), its Voicebot
//! stream (the wire format in [`stream`], the pipeline's side in [`codec`]), how its requests
//! are authenticated ([`auth`]: a per-number URL key), its URLs and its HTTP routes.

pub mod account;
pub mod answer;
pub mod auth;
pub mod codec;
pub mod dial;
pub mod routes;
pub mod stream;
pub mod transfer;
pub mod urls;
