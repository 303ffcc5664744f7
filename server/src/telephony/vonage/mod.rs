//! Vonage (Voice API): the answer webhook we answer with an NCCO ([`ncco`]), the event webhook,
//! their signed-callback JWTs ([`signature`]), and the WebSocket stream (16-bit linear PCM in
//! binary frames, JSON control messages: the wire format in [`media`], the pipeline's side in
//! [`codec`]), with its URLs and HTTP routes. Wire facts: shared/protocols/VONAGE.md.

pub mod account;
pub mod codec;
pub mod dial;
pub mod media;
pub mod ncco;
pub mod routes;
pub mod signature;
pub mod transfer;
pub mod urls;
