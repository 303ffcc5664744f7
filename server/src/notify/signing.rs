//! Webhook signatures, as Stripe and Svix do them: HMAC-SHA256 with the user's signing secret
//! over `<unix seconds>.<body>`, sent as `Voxgate-Signature: t=<unix seconds>,v1=<hex>`.
//! Receivers recompute it and refuse a timestamp more than [`REPLAY_WINDOW_SECS`] away from
//! their clock, so a captured request cannot be replayed later.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "Voxgate-Signature";
/// The header carrying the event id (the same on every try of one delivery: an idempotency key).
pub const EVENT_ID_HEADER: &str = "Voxgate-Event-Id";
/// The header carrying the event type.
pub const EVENT_TYPE_HEADER: &str = "Voxgate-Event-Type";
/// How far a receiver should accept a signature's timestamp from its own clock.
pub const REPLAY_WINDOW_SECS: i64 = 300;
/// The start of every signing secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// A new signing secret: `whsec_` + 32 random letters and digits.
pub fn new_secret() -> String {
    format!("{SECRET_PREFIX}{}", crate::secrets::random_string(crate::secrets::ALPHANUMERIC, 32))
}

/// The hex HMAC-SHA256 of `<timestamp>.<body>` under `secret` (its UTF-8 bytes are the key).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length: new_from_slice cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else { return String::new() };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The `Voxgate-Signature` header's value.
pub fn header(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", sign(secret, timestamp, body))
}

/// Checks a `Voxgate-Signature` value the way a receiver should: the right secret, the same
/// body, and a timestamp within the replay window of `now` (compared in constant time).
pub fn verify(secret: &str, header: &str, body: &[u8], now: i64) -> bool {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", s)) => signatures.push(s),
            _ => {}
        }
    }
    let Some(t) = timestamp else { return false };
    if (now - t).abs() > REPLAY_WINDOW_SECS {
        return false;
    }
    let expected = sign(secret, t, body);
    signatures.iter().any(|s| subtle::ConstantTimeEq::ct_eq(s.as_bytes(), expected.as_bytes()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_holds_for_its_secret_body_and_window_only() {
        let secret = new_secret();
        assert!(secret.starts_with(SECRET_PREFIX) && secret.len() == 38);
        let h = header(&secret, 1_700_000_000, b"{\"a\":1}");
        assert!(verify(&secret, &h, b"{\"a\":1}", 1_700_000_000 + 299));
        assert!(!verify(&secret, &h, b"{\"a\":2}", 1_700_000_000), "other body");
        assert!(!verify("whsec_other", &h, b"{\"a\":1}", 1_700_000_000), "other secret");
        assert!(!verify(&secret, &h, b"{\"a\":1}", 1_700_000_000 + 301), "replayed after the window");
        assert!(!verify(&secret, "v1=00", b"{}", 0));
        // A known vector (computed with Python's hmac module).
        assert_eq!(sign("whsec_test", 1, b"{}"), "7500d5d4be4b3ef07af1fe56f7d522d135cdaa7530de557e67cc1049c52de094");
    }
}
