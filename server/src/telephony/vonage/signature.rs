//! Vonage's signed webhooks (shared/protocols/VONAGE.md §6): answer and event requests carry
//! `Authorization: Bearer <JWT>`, HS256 keyed by the account's signature secret (not the API
//! secret, not the application's private key), issued by `Vonage`, naming the account
//! (`api_key`) and the application, with the lowercase hex SHA-256 of the raw body
//! (`payload_hash`). We check all of them, and that `iat` is within [`WINDOW_SECS`] of our
//! clock; tokens need no `exp`. Pure: the time is an input. [`sign`] is Vonage's side, for
//! the simulator. Also here: [`check_private_key`], for the application key a number imports.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The header Vonage signs with.
pub const HEADER: &str = "authorization";
/// The `iss` of every Vonage webhook token.
pub const ISSUER: &str = "Vonage";
/// How far `iat` may be from our clock, either way (Vonage gives no window; this is ours).
pub const WINDOW_SECS: u64 = 300;
/// Longest `Authorization` header we read (Vonage's tokens are ~450 bytes).
pub const MAX_HEADER: usize = 8 * 1024;

/// The claims of a Vonage webhook token (the order is Vonage's, so [`sign`] writes the same
/// payload Vonage does).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// A unique id (for replay detection).
    pub jti: String,
    /// Always [`ISSUER`].
    pub iss: String,
    /// Lowercase hex SHA-256 of the raw request body ([`payload_hash`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_hash: Option<String>,
    /// The account the signature secret belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    /// The application that sent the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_id: Option<String>,
}

/// Who the token must come from: the number's Vonage account and application.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Expect {
    /// The number's API key; a token that names another account is refused.
    pub api_key: String,
    /// The number's application id, when known; a token that names another is refused.
    pub application_id: Option<String>,
}

/// Why a webhook's signature was refused. No message carries the secret or the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The number has no signature secret: nothing can be verified (an empty HMAC key is public).
    #[error("no Vonage signature secret is set for this number")]
    NoSecret,
    /// No `Authorization` header (Vonage may send an unsigned callback on an internal error;
    /// a 5xx reply gets a signed retry).
    #[error("the request is not signed: it has no Authorization header")]
    Missing,
    /// An `Authorization` header of another scheme (`Basic …`).
    #[error("the Authorization header is not a bearer token")]
    NotBearer,
    /// A bearer token that is not a JWT with Vonage's claims.
    #[error("the bearer token is not a well-formed Vonage JWT")]
    Malformed,
    /// A token signed with anything but HS256 (`none`, HS512, RS256, …).
    #[error("the token is not signed with HS256")]
    WrongAlgorithm,
    /// The signature is not the signature secret's.
    #[error("the token's signature does not match the signature secret")]
    BadSignature,
    /// `iss` is not `Vonage`.
    #[error("the token was not issued by Vonage")]
    WrongIssuer,
    /// `api_key` names another account.
    #[error("the token was issued for another Vonage account")]
    WrongAccount,
    /// `application_id` names another application.
    #[error("the token was issued for another Vonage application")]
    WrongApplication,
    /// `payload_hash` is not the body's hash: the body was changed.
    #[error("the request body does not match the token's payload hash")]
    BodyMismatch,
    /// `iat` is more than [`WINDOW_SECS`] away from our clock.
    #[error("the token was issued more than 5 minutes away from our clock")]
    Stale,
}

/// Lowercase hex SHA-256 of a body (the `payload_hash` claim; an empty body hashes too).
pub fn payload_hash(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// Signs `claims` as Vonage does (HS256, keyed by the signature secret): the simulator's side.
pub fn sign(secret: &str, claims: &Claims) -> String {
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(secret.as_bytes()))
        .expect("HS256 signs with a key of any length")
}

/// The token of an `Authorization: Bearer <jwt>` header value.
fn bearer(header: Option<&str>) -> Result<&str, SignatureError> {
    let header = header.map(str::trim).filter(|h| !h.is_empty()).ok_or(SignatureError::Missing)?;
    if header.len() > MAX_HEADER {
        return Err(SignatureError::Malformed);
    }
    let (scheme, token) = header.split_once(char::is_whitespace).unwrap_or((header, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(SignatureError::NotBearer);
    }
    Some(token.trim()).filter(|t| !t.is_empty()).ok_or(SignatureError::Malformed)
}

/// The `alg` the token's header names, read before anything is trusted.
fn algorithm(token: &str) -> Result<String, SignatureError> {
    let encoded = token.split('.').next().unwrap_or_default();
    let json = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| SignatureError::Malformed)?;
    let header: serde_json::Value = serde_json::from_slice(&json).map_err(|_| SignatureError::Malformed)?;
    header.get("alg").and_then(serde_json::Value::as_str).map(str::to_string).ok_or(SignatureError::Malformed)
}

/// Verifies a Vonage webhook: its `Authorization` header value `header` against the signature
/// `secret`, the raw `body`, the account and application in `expect`, at Unix time `now`.
/// Returns the token's claims (their `jti` is the caller's to check for replays).
pub fn verify(secret: &str, header: Option<&str>, body: &[u8], expect: &Expect, now: i64) -> Result<Claims, SignatureError> {
    if secret.is_empty() {
        return Err(SignatureError::NoSecret);
    }
    let token = bearer(header)?;
    if algorithm(token)? != "HS256" {
        return Err(SignatureError::WrongAlgorithm);
    }
    // Vonage's tokens may have no `exp`; `iat` is checked below against `now`, not the system clock.
    let mut validation = Validation::new(Algorithm::HS256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    let claims = jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(secret.as_bytes()), &validation)
        .map_err(|e| match e.kind() {
            ErrorKind::InvalidSignature => SignatureError::BadSignature,
            ErrorKind::InvalidAlgorithm => SignatureError::WrongAlgorithm,
            _ => SignatureError::Malformed,
        })?
        .claims;
    if claims.iss != ISSUER {
        return Err(SignatureError::WrongIssuer);
    }
    if claims.api_key.as_ref().is_some_and(|k| *k != expect.api_key) {
        return Err(SignatureError::WrongAccount);
    }
    if let (Some(theirs), Some(ours)) = (&claims.application_id, &expect.application_id)
        && theirs != ours
    {
        return Err(SignatureError::WrongApplication);
    }
    if now.abs_diff(claims.iat) > WINDOW_SECS {
        return Err(SignatureError::Stale);
    }
    if let Some(hash) = &claims.payload_hash
        && !bool::from(payload_hash(body).as_bytes().ct_eq(hash.to_ascii_lowercase().as_bytes()))
    {
        return Err(SignatureError::BodyMismatch);
    }
    Ok(claims)
}

/// Checks that `pem` is an RSA private key in PEM form that can sign (the application's
/// `private.key`, which signs our Voice API requests). The error is a sentence for the user and
/// never quotes the key.
pub fn check_private_key(pem: &str) -> Result<(), String> {
    let pem = pem.trim();
    if pem.is_empty() {
        return Err("The private key is empty: paste the private.key file Vonage gave you with the application.".into());
    }
    if pem.contains("PUBLIC KEY") || pem.contains("CERTIFICATE") {
        return Err("This is a public key or a certificate: paste the application's private key (private.key).".into());
    }
    let not_rsa =
        || "This is not an RSA private key in PEM form (-----BEGIN PRIVATE KEY-----): paste the application's private.key.".to_string();
    let key = EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|_| not_rsa())?;
    // Parsing the PEM does not parse the key itself; signing does.
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), &serde_json::json!({ "iat": 0 }), &key).map_err(|_| not_rsa())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // VONAGE.md §6, the worked vector.
    const SECRET: &str = "test-signature-secret-0123456789";
    const BODY: &[u8] = br#"{"status":"answered","uuid":"aaaaaaaa-bbbb-cccc-dddd-0123456789ab"}"#;
    const HASH: &str = "3b98c9072a87490e8518bd6d2cc5a5becdfff627784c7f3b0ac9b48b095bfd37";
    const TOKEN: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpYXQiOjE1ODc0OTQ5NjIsImp0aSI6ImM1YmE4ZjI0LTFhMTQtNGMxMC1iZmRmLTNmYmU4Y2U1MTFiNSIsImlzcyI6IlZvbmFnZSIsInBheWxvYWRfaGFzaCI6IjNiOThjOTA3MmE4NzQ5MGU4NTE4YmQ2ZDJjYzVhNWJlY2RmZmY2Mjc3ODRjN2YzYjBhYzliNDhiMDk1YmZkMzciLCJhcGlfa2V5IjoiYTFiMmMzZCIsImFwcGxpY2F0aW9uX2lkIjoiYWFhYWFhYWEtYmJiYi1jY2NjLWRkZGQtMDEyMzQ1Njc4OWFiIn0.c4ASgpj6BDm7TfuMocwagQ4sKz_Gi48XZ0PQ3KAlf_U";
    const IAT: i64 = 1_587_494_962;
    const APP: &str = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab";

    fn expect() -> Expect {
        Expect { api_key: "a1b2c3d".into(), application_id: Some(APP.into()) }
    }

    fn bearer_of(token: &str) -> String {
        format!("Bearer {token}")
    }

    fn claims() -> Claims {
        Claims {
            iat: IAT,
            jti: "c5ba8f24-1a14-4c10-bfdf-3fbe8ce511b5".into(),
            iss: "Vonage".into(),
            payload_hash: Some(HASH.into()),
            api_key: Some("a1b2c3d".into()),
            application_id: Some(APP.into()),
        }
    }

    #[test]
    fn the_worked_vector_verifies() {
        assert_eq!(payload_hash(BODY), HASH);
        assert_eq!(payload_hash(b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(verify(SECRET, Some(&bearer_of(TOKEN)), BODY, &expect(), IAT), Ok(claims()));
        // Within the window either way, any scheme case, a token without an application check.
        assert!(verify(SECRET, Some(&format!("bearer  {TOKEN} ")), BODY, &expect(), IAT + 300).is_ok());
        assert!(verify(SECRET, Some(&bearer_of(TOKEN)), BODY, &Expect { application_id: None, ..expect() }, IAT - 300).is_ok());
    }

    #[test]
    fn what_we_sign_is_what_vonage_signs() {
        let ours = sign(SECRET, &claims());
        // The same claims, in the same order (the header's key order differs; both are HS256).
        assert_eq!(ours.split('.').nth(1), TOKEN.split('.').nth(1));
        assert_eq!(verify(SECRET, Some(&bearer_of(&ours)), BODY, &expect(), IAT), Ok(claims()));
        // Optional claims absent: not serialised, and nothing to check.
        let bare = Claims { payload_hash: None, api_key: None, application_id: None, ..claims() };
        let token = sign(SECRET, &bare);
        let payload = URL_SAFE_NO_PAD.decode(token.split('.').nth(1).unwrap()).unwrap();
        assert_eq!(
            String::from_utf8(payload).unwrap(),
            r#"{"iat":1587494962,"jti":"c5ba8f24-1a14-4c10-bfdf-3fbe8ce511b5","iss":"Vonage"}"#
        );
        assert_eq!(verify(SECRET, Some(&bearer_of(&token)), b"anything", &expect(), IAT), Ok(bare));
    }

    #[test]
    fn forged_changed_and_stale_requests_are_refused() {
        let h = bearer_of(TOKEN);
        let e = expect();
        assert_eq!(verify("another-secret-0123456789abcdef", Some(&h), BODY, &e, IAT), Err(SignatureError::BadSignature));
        assert_eq!(verify("", Some(&h), BODY, &e, IAT), Err(SignatureError::NoSecret));
        let tampered = br#"{"status":"answered","uuid":"aaaaaaaa-bbbb-cccc-dddd-0123456789ac"}"#;
        assert_eq!(verify(SECRET, Some(&h), tampered, &e, IAT), Err(SignatureError::BodyMismatch));
        assert_eq!(verify(SECRET, Some(&h), b"", &e, IAT), Err(SignatureError::BodyMismatch));
        assert_eq!(verify(SECRET, Some(&h), BODY, &e, IAT + 301), Err(SignatureError::Stale));
        assert_eq!(verify(SECRET, Some(&h), BODY, &e, IAT - 301), Err(SignatureError::Stale), "issued in the future");
        let other_account = Expect { api_key: "zzzzzzz".into(), ..expect() };
        assert_eq!(verify(SECRET, Some(&h), BODY, &other_account, IAT), Err(SignatureError::WrongAccount));
        let other_app = Expect { application_id: Some("bbbbbbbb-bbbb-cccc-dddd-0123456789ab".into()), ..expect() };
        assert_eq!(verify(SECRET, Some(&h), BODY, &other_app, IAT), Err(SignatureError::WrongApplication));
        let not_vonage = sign(SECRET, &Claims { iss: "Mallory".into(), ..claims() });
        assert_eq!(verify(SECRET, Some(&bearer_of(&not_vonage)), BODY, &e, IAT), Err(SignatureError::WrongIssuer));
        // One changed character of the signature.
        let forged = TOKEN.replace(".c4ASgpj6", ".d4ASgpj6");
        assert_ne!(forged, TOKEN);
        assert_eq!(verify(SECRET, Some(&bearer_of(&forged)), BODY, &e, IAT), Err(SignatureError::BadSignature));
        // Claims of another body under the original signature.
        let (head, rest) = TOKEN.split_once('.').unwrap();
        let other_claims =
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&Claims { payload_hash: Some(payload_hash(tampered)), ..claims() }).unwrap());
        let spliced = format!("{head}.{other_claims}.{}", rest.rsplit_once('.').unwrap().1);
        assert_eq!(verify(SECRET, Some(&bearer_of(&spliced)), tampered, &e, IAT), Err(SignatureError::BadSignature));
    }

    #[test]
    fn only_hs256_bearer_tokens_are_read() {
        let e = expect();
        let payload = TOKEN.split('.').nth(1).unwrap();
        let none = format!("{}.{payload}.", URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#));
        assert_eq!(verify(SECRET, Some(&bearer_of(&none)), BODY, &e, IAT), Err(SignatureError::WrongAlgorithm));
        let hs512 = jsonwebtoken::encode(&Header::new(Algorithm::HS512), &claims(), &EncodingKey::from_secret(SECRET.as_bytes())).unwrap();
        assert_eq!(verify(SECRET, Some(&bearer_of(&hs512)), BODY, &e, IAT), Err(SignatureError::WrongAlgorithm));
        assert_eq!(verify(SECRET, None, BODY, &e, IAT), Err(SignatureError::Missing));
        assert_eq!(verify(SECRET, Some("  "), BODY, &e, IAT), Err(SignatureError::Missing));
        assert_eq!(verify(SECRET, Some("Basic YTFiMmMzZDpzZWNyZXQ="), BODY, &e, IAT), Err(SignatureError::NotBearer));
        assert_eq!(verify(SECRET, Some(TOKEN), BODY, &e, IAT), Err(SignatureError::NotBearer), "no scheme");
        for bad in ["Bearer", "Bearer x", "Bearer a.b.c", "Bearer ....", "Bearer e30.e30.e30"] {
            assert_eq!(verify(SECRET, Some(bad), BODY, &e, IAT), Err(SignatureError::Malformed), "{bad}");
        }
        let huge = format!("Bearer {}", "a".repeat(MAX_HEADER));
        assert_eq!(verify(SECRET, Some(&huge), BODY, &e, IAT), Err(SignatureError::Malformed));
    }

    #[test]
    fn a_signed_token_without_vonages_claims_is_malformed() {
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &serde_json::json!({ "iss": "Vonage" }),
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap();
        assert_eq!(verify(SECRET, Some(&bearer_of(&token)), BODY, &expect(), IAT), Err(SignatureError::Malformed));
    }

    #[test]
    fn errors_never_quote_the_secret_or_the_token() {
        let all = [
            verify("another-secret-0123456789abcdef", Some(&bearer_of(TOKEN)), BODY, &expect(), IAT),
            verify(SECRET, Some(&bearer_of(TOKEN)), b"x", &expect(), IAT),
            verify(SECRET, Some("Bearer a.b.c"), BODY, &expect(), IAT),
        ];
        for e in all {
            let text = e.unwrap_err().to_string();
            assert!(!text.contains(SECRET) && !text.contains("another-secret") && !text.contains(&TOKEN[..20]), "{text}");
        }
    }

    // A throwaway key made for this test (`openssl genrsa 2048`); it signs nothing real.
    const PRIVATE_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC5hgYknnKrwsuK
bgeG2/ft7sagbct+8Af/90MZtzeLltzgOf0KQHJoFiQxyGmDwdVuw/o9U8Y0hyuT
H3cw9DIw1ckzyxmDkEASNtYf+3X48WCWsz7OfKw3DHTUvKAWbKb3re4py5Nd7elW
kvJtIi4lSiTOliYkb307bB23WW6OHPo0z39aJbGTTVMzbwfwMw7VbdL9/KBxh65t
4LgfLR8dUuCGg1n3lRbn4tvcUFBYNKinYsoR0A2XJyKUB4nnGCHNrXSBN/DJk9LY
RqDAH765Q9demOAP49cwYee7OksCug1eLqWYd92Q0ZoIZ2csuRWK5Oi54SZHlTqT
elC1ZXy7AgMBAAECggEADZ7Y2ZxmZ9TT07RzSgPhRm8m1wVokMe3lqPFIeCxK8bm
LXIkcTm9DIY/nwYLNRiofkrWFuWNIjMgUFtZiVcMTkiLzoklNOMEyTGMc+mmxiGW
iUncnRVLIXmBJFM635qXgYyb9SaUiatbW7dLJBcD00oHvMEKSNeElrW/0sO2malH
kEXdP4gMJrHA1dvoWm8kDsW8l2MdX3rYVbfKnfiWIbZGN1baFhJz6J86H+BjyB1F
9NeipzNnXRxzbz0NPHqoohDmOunWBxC7YiElHo0GFU3QD5sQgMZtNb7Gbjt0dtLf
ZWV8yYLXfh7mpm5UWU0sBqjcZ+SK8/5CkhXUzPEv0QKBgQD/WWIIno0/iPemdx0r
NTY0ux+LsP4MCusfBdaRYMy8n1yCKXMWPsrWEkSnBpg0Swp4M1dpR8lhpx+3rNp6
umYPmqJx3kECcoSXbukIuewwht1WX8x8mKiJwQxbj67GH+XloCI5MWZOQQL8HA9/
0bYQr914OBCa2aU+aySRaAAT8QKBgQC5/xRQ9lGsBZq7/+52XupPZlI/5ge3njoI
ZKeENl8aMiz2Li+AFoKWA1dZg8gJS8/QutR4ScwCPJohXMnOGiiwBcopx4pC3OKR
iFtEIn/RpPwZbzc4WdbS8iQ+Mk7oO7Dyp7wgQ92141N1H44bCb0dmvLYZ5Y9PdP3
/TeBfTqXawKBgCYNBcTPC7FaEb1mppwXs9orwEmquFDHF75puk2zpQ6+mKR01MeN
1+AKnNxe6TNxsz+yNuZjYikBJILUaUI8oJTWsDpTqlBZDFUcm/FG82FP14/Ver1e
ak8My3CheqPfgPy03iSzrdEfcvhqngyoDX9zFYeioybQJAWnJa3dV5WhAoGANmHo
tMtwkdWJqpJoTN/vrouCXQCLHRr8aNvVRwkGwYgOMWTLqq3qPKZ5ccjgQieSebtG
yGz7Y2QIxNx2fPaVEvJ+a7zWJjqjXF38IW3c5ZVRyLYF9Un/T+pQwoa/H5PkZu64
SM7PEpGHI2W4jRtJ2lAl1TRkbz+WrJmzEv9klEUCgYEAhVOW9LI0J22suzeWr3FV
dtwq/Cr3h2AC6EZT0sM8tMKENs/q4H5kP+UrowJAljVI1VHmkSkL4f+DVcxTOshN
GxKMi52KpAtqKovmKieQJyYpDMWCMiYM/+vcGlLDD+PRPMOPGkJQ2W1JWAC3X1Sv
Mh4ZvRebAryXXOCKwdyu/Fk=
-----END PRIVATE KEY-----
";

    // Its public half (what a user might paste by mistake).
    const PUBLIC_PEM: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAuYYGJJ5yq8LLim4Hhtv3
7e7GoG3LfvAH//dDGbc3i5bc4Dn9CkByaBYkMchpg8HVbsP6PVPGNIcrkx93MPQy
MNXJM8sZg5BAEjbWH/t1+PFglrM+znysNwx01LygFmym963uKcuTXe3pVpLybSIu
JUokzpYmJG99O2wdt1lujhz6NM9/WiWxk01TM28H8DMO1W3S/fygcYeubeC4Hy0f
HVLghoNZ95UW5+Lb3FBQWDSop2LKEdANlycilAeJ5xghza10gTfwyZPS2EagwB++
uUPXXpjgD+PXMGHnuzpLAroNXi6lmHfdkNGaCGdnLLkViuToueEmR5U6k3pQtWV8
uwIDAQAB
-----END PUBLIC KEY-----
";

    #[test]
    fn an_application_private_key_is_checked_at_import() {
        assert_eq!(check_private_key(PRIVATE_PEM), Ok(()));
        assert_eq!(check_private_key(&format!("\n  {}\r\n", PRIVATE_PEM.replace('\n', "\r\n"))), Ok(()), "pasted with CRLF and spaces");
        // The public half, garbage, an empty paste and a damaged key are all refused.
        let body_start = PRIVATE_PEM.find('\n').unwrap() + 1;
        let mut damaged = PRIVATE_PEM.to_string();
        damaged.replace_range(body_start + 40..body_start + 48, "AAAAAAAA");
        let truncated = format!("{}\n-----END PRIVATE KEY-----\n", &PRIVATE_PEM[..600]);
        for bad in [PUBLIC_PEM, "not a key", "", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----", &damaged, &truncated] {
            let e = check_private_key(bad).unwrap_err();
            assert!(e.ends_with('.') && !e.contains("MIIE"), "{e}");
        }
    }
}
