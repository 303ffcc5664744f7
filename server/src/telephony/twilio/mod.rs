//! Twilio: the voice webhook we answer with TwiML ([`answer`]), its signature ([`signature`]),
//! the Media Stream (the wire format in [`media`], the pipeline's side in [`codec`]), the
//! per-call token that authenticates the stream (crate::telephony::token), its URLs and its HTTP routes.
//! Wire facts: shared/protocols/TWILIO.md.

pub mod account;
pub mod answer;
pub mod codec;
pub mod dial;
pub mod media;
pub mod routes;
pub mod signature;
pub mod transfer;
pub mod urls;
