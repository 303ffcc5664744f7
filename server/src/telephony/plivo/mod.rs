//! Plivo: the answer webhook we answer with Plivo XML ([`answer`]: a bidirectional `<Stream>`),
//! the hangup and stream status callbacks, their `X-Plivo-Signature-V3` ([`signature`]), and
//! the Audio Streaming WebSocket (the wire format in [`media`], μ-law or 16-bit linear PCM; the
//! pipeline's side in [`codec`]), with its URLs and HTTP routes.
//! Wire facts: shared/protocols/PLIVO.md.

pub mod account;
pub mod answer;
pub mod codec;
pub mod dial;
pub mod media;
pub mod routes;
pub mod signature;
pub mod transfer;
pub mod urls;
