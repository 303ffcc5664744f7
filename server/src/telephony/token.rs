//! The per-call stream token, for providers that sign their webhooks (Twilio, Vonage, Plivo):
//! their stream URLs carry no secret of the number, so the signed answer hands the stream a
//! short-lived token for its call (Twilio: a `<Parameter>`; Vonage: a header of the NCCO's
//! websocket endpoint; Plivo: the stream URL's query), checked when the stream names its call.
//! It is an HMAC-SHA256, keyed by the number's URL secret (rotating the secret voids every
//! token), over the provider, the number, the call and the expiry. Pure: the time is an input.

use domain::phone_number::Provider;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::stream::StreamError;

/// The name the token travels under (a parameter, header or query key).
pub const PARAMETER: &str = "voxgate_token";
/// How long a token is good for: Twilio opens the stream within a second or two of the answer.
pub const LIFETIME_SECS: i64 = 120;

fn mac(secret: &str, provider: Provider, phone_id: &str, call_sid: &str, expires: i64) -> Hmac<Sha256> {
    // An HMAC takes a key of any length.
    let mut m = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    m.update(format!("{provider}-stream\n{phone_id}\n{call_sid}\n{expires}").as_bytes());
    m
}

/// A token for call `call_sid` on number `phone_id` of `provider`, good until `now + LIFETIME_SECS`.
pub fn issue(secret: &str, provider: Provider, phone_id: &str, call_sid: &str, now: i64) -> String {
    let expires = now + LIFETIME_SECS;
    format!("{expires}.{}", hex::encode(mac(secret, provider, phone_id, call_sid, expires).finalize().into_bytes()))
}

/// WebSocket close code for a stream whose token is missing, wrong or expired (policy violation).
pub const BAD_TOKEN: u16 = 1008;

/// Why a stream's token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the stream has no token")]
    Missing,
    #[error("the stream token is malformed")]
    Malformed,
    #[error("the stream token has expired")]
    Expired,
    #[error("the stream token is not valid for this call")]
    Wrong,
}

impl From<TokenError> for StreamError {
    fn from(e: TokenError) -> Self {
        StreamError { code: BAD_TOKEN, reason: e.to_string() }
    }
}

/// What a stream must prove when it names its call: a token for that call, issued for this
/// number of this provider.
#[derive(Debug, Clone)]
pub struct StreamAuth {
    pub provider: Provider,
    /// The number's URL secret.
    pub secret: String,
    pub phone_id: String,
    /// Unix seconds when the socket opened (tokens are checked against it).
    pub now: i64,
}

impl StreamAuth {
    /// Checks the token `presented` for call `call_sid`.
    pub fn check(&self, call_sid: &str, presented: Option<&str>) -> Result<(), TokenError> {
        verify(&self.secret, self.provider, &self.phone_id, call_sid, presented, self.now)
    }
}

/// Checks `token` for call `call_sid` on number `phone_id` of `provider` at time `now`
/// (compared in constant time).
pub fn verify(secret: &str, provider: Provider, phone_id: &str, call_sid: &str, token: Option<&str>, now: i64) -> Result<(), TokenError> {
    let token = token.ok_or(TokenError::Missing)?;
    let (expires, tag) = token.split_once('.').ok_or(TokenError::Malformed)?;
    let expires: i64 = expires.parse().map_err(|_| TokenError::Malformed)?;
    let tag = hex::decode(tag).map_err(|_| TokenError::Malformed)?;
    mac(secret, provider, phone_id, call_sid, expires).verify_slice(&tag).map_err(|_| TokenError::Wrong)?;
    // A token from the future (beyond one lifetime) was not issued by this clock.
    if now > expires || expires - now > LIFETIME_SECS + 5 {
        return Err(TokenError::Expired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;
    const T: Provider = Provider::Twilio;

    #[test]
    fn a_token_is_good_for_its_call_and_number_until_it_expires() {
        let t = issue("secret-of-the-number-0123456789", T, "p1", "CA1", NOW);
        assert_eq!(verify("secret-of-the-number-0123456789", T, "p1", "CA1", Some(&t), NOW + 1), Ok(()));
        assert_eq!(verify("secret-of-the-number-0123456789", T, "p1", "CA1", Some(&t), NOW + LIFETIME_SECS), Ok(()));
        assert_eq!(verify("secret-of-the-number-0123456789", T, "p1", "CA1", Some(&t), NOW + LIFETIME_SECS + 1), Err(TokenError::Expired));
        assert_eq!(verify("secret-of-the-number-0123456789", T, "p1", "CA2", Some(&t), NOW), Err(TokenError::Wrong), "another call");
        assert_eq!(verify("secret-of-the-number-0123456789", T, "p2", "CA1", Some(&t), NOW), Err(TokenError::Wrong), "another number");
        assert_eq!(verify("a-rotated-secret-0123456789abcd", T, "p1", "CA1", Some(&t), NOW), Err(TokenError::Wrong), "rotated secret");
        let plivo =
            StreamAuth { provider: Provider::Plivo, secret: "secret-of-the-number-0123456789".into(), phone_id: "p1".into(), now: NOW };
        assert_eq!(plivo.check("CA1", Some(&t)), Err(TokenError::Wrong), "another provider");
        let mine = issue("secret-of-the-number-0123456789", Provider::Plivo, "p1", "CA1", NOW);
        assert_eq!(plivo.check("CA1", Some(&mine)), Ok(()));
    }

    #[test]
    fn forged_and_malformed_tokens_are_refused() {
        let t = issue("s", T, "p1", "CA1", NOW);
        let (expires, tag) = t.split_once('.').unwrap();
        // Moving the expiry breaks the tag.
        let later = format!("{}.{tag}", expires.parse::<i64>().unwrap() + 3600);
        assert_eq!(verify("s", T, "p1", "CA1", Some(&later), NOW), Err(TokenError::Wrong));
        for bad in ["", "123", "x.abcd", "123.zz", "123."] {
            assert!(matches!(verify("s", T, "p1", "CA1", Some(bad), NOW), Err(TokenError::Malformed | TokenError::Wrong)), "{bad}");
        }
        assert_eq!(verify("s", T, "p1", "CA1", None, NOW), Err(TokenError::Missing));
        // A validly signed token that claims to last a day was not issued here.
        let far = issue("s", T, "p1", "CA1", NOW + 86_400);
        assert_eq!(verify("s", T, "p1", "CA1", Some(&far), NOW), Err(TokenError::Expired));
    }
}
