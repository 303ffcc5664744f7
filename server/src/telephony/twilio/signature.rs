//! `X-Twilio-Signature` (shared/protocols/TWILIO.md §3): base64 of HMAC-SHA1, keyed by the
//! account's auth token, over the exact URL Twilio requested followed by every POST parameter
//! received (names sorted, each name's distinct values sorted, no separators), never a fixed
//! list. The JSON-body variant signs the URL alone, which carries `bodySHA256`, the hex
//! SHA-256 of the raw body. Like Twilio's own validators, the URL is tried with and without the
//! scheme's default port. Pure; `signature` is also what the simulator signs with.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The header Twilio signs with.
pub const HEADER: &str = "x-twilio-signature";

/// The signature of a request to `url` with form parameters `params` (empty for GET and JSON).
pub fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut by_name: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (k, v) in params {
        by_name.entry(k.as_str()).or_default().insert(v.as_str());
    }
    let mut m = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()).expect("HMAC takes any key length");
    m.update(url.as_bytes());
    for (name, values) in by_name {
        for value in values {
            m.update(name.as_bytes());
            m.update(value.as_bytes());
        }
    }
    STANDARD.encode(m.finalize().into_bytes())
}

/// Lowercase hex SHA-256 of a body (the JSON variant's `bodySHA256`).
pub fn body_sha256(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// `url` with and without its scheme's default port (Twilio signs either, inconsistently).
pub fn url_variants(url: &str) -> Vec<String> {
    let mut out = vec![url.to_string()];
    let Ok(parsed) = url::Url::parse(url) else { return out };
    let default: u16 = match parsed.scheme() {
        "https" => 443,
        "http" => 80,
        _ => return out,
    };
    // Another port than the default is signed as it is.
    let (Some(rest), None) = (url.split_once("://").map(|(_, r)| r), parsed.port()) else { return out };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let suffix = format!(":{default}");
    let other = match authority.strip_suffix(&suffix) {
        Some(bare) => bare.to_string(),
        None => format!("{authority}{suffix}"),
    };
    out.push(format!("{}://{other}{tail}", parsed.scheme()));
    out
}

/// What the request was, for checking its signature.
pub struct Signed<'a> {
    /// The public URL Twilio called, query included, as sent.
    pub url: &'a str,
    /// Every form parameter of the body (empty for a JSON body).
    pub form: &'a [(String, String)],
    /// The raw body, for the JSON variant.
    pub body: &'a [u8],
    pub header: Option<&'a str>,
}

/// Whether the request's signature is the auth token's (constant-time comparisons).
pub fn verify(auth_token: &str, request: &Signed<'_>) -> bool {
    let Some(header) = request.header.map(str::trim).filter(|h| !h.is_empty()) else { return false };
    let query = url::Url::parse(request.url).ok().and_then(|u| u.query().map(str::to_string)).unwrap_or_default();
    let body_hash = form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "bodySHA256").map(|(_, v)| v.into_owned());
    // The JSON variant signs the URL alone; its body must match the hash the URL carries.
    let params: &[(String, String)] = match &body_hash {
        Some(hash) => {
            if !bool::from(body_sha256(request.body).as_bytes().ct_eq(hash.to_ascii_lowercase().as_bytes())) {
                return false;
            }
            &[]
        }
        None => request.form,
    };
    url_variants(request.url).iter().any(|url| bool::from(signature(auth_token, url, params).as_bytes().ct_eq(header.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_worked_vector_of_the_protocol_notes() {
        // TWILIO.md §3, computed with twilio-python's algorithm.
        let params = p(&[("From", "+1415"), ("CallSid", "CA1")]);
        assert_eq!(signature("12345", "https://example.com/voice?x=1", &params), "pbpN3xWLtvmAOwVfQbmi70GVs6Y=");
        assert_eq!(body_sha256(br#"{"a":1}"#), "015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862");
        let req = Signed { url: "https://example.com/voice?x=1", form: &params, body: b"", header: Some("pbpN3xWLtvmAOwVfQbmi70GVs6Y=") };
        assert!(verify("12345", &req));
        assert!(!verify("54321", &req), "another token");
        assert!(!verify("12345", &Signed { header: None, ..req }), "no header");
        let more = p(&[("From", "+1415"), ("CallSid", "CA1"), ("Added", "by Twilio")]);
        assert!(!verify("12345", &Signed { form: &more, ..req }), "a parameter not signed");
        assert!(!verify("12345", &Signed { url: "https://example.com/voice?x=2", ..req }), "another URL");
    }

    #[test]
    fn twilios_own_validator_agrees() {
        // Computed with twilio-python 9.x: RequestValidator(token).compute_signature(url, params).
        let params = p(&[
            ("CallSid", "CA00000000000000000000000000000001"),
            ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
            ("From", "+14155550100"),
            ("To", "+14155552671"),
            ("CallStatus", "ringing"),
            ("Direction", "inbound"),
            ("Caller Name", "A & B <x>"),
        ]);
        let url = "https://vox.example/api/telephony/twilio/voice/p1";
        assert_eq!(signature("f00dfacef00dfacef00dfacef00dface", url, &params), "M1rwd8b4MHStuVnNzTJJkSeHghk=");
        // RequestValidator.validate accepts it on the URL with the default port too.
        let with_port = "https://vox.example:443/api/telephony/twilio/voice/p1";
        let req = Signed { url: with_port, form: &params, body: b"", header: Some("M1rwd8b4MHStuVnNzTJJkSeHghk=") };
        assert!(verify("f00dfacef00dfacef00dfacef00dface", &req));
    }

    #[test]
    fn repeated_names_sign_every_distinct_value_sorted() {
        let one = signature("t", "https://h/x", &p(&[("A", "2"), ("A", "1"), ("B", "z")]));
        assert_eq!(one, signature("t", "https://h/xA1A2Bz", &[]));
        assert_eq!(one, signature("t", "https://h/x", &p(&[("B", "z"), ("A", "1"), ("A", "2"), ("A", "1")])));
    }

    #[test]
    fn the_default_port_may_or_may_not_be_signed() {
        assert_eq!(url_variants("https://h.example/v?a=1"), ["https://h.example/v?a=1", "https://h.example:443/v?a=1"]);
        assert_eq!(url_variants("https://h.example:443/v"), ["https://h.example:443/v", "https://h.example/v"]);
        assert_eq!(url_variants("http://127.0.0.1:3000/v"), ["http://127.0.0.1:3000/v"]);
        let form = p(&[("CallSid", "CA1")]);
        let sig = signature("t", "https://h.example:443/v", &form);
        assert!(verify("t", &Signed { url: "https://h.example/v", form: &form, body: b"", header: Some(&sig) }));
    }

    #[test]
    fn the_json_variant_signs_the_url_and_hashes_the_body() {
        let body = br#"{"CallSid":"CA1"}"#;
        let url = format!("https://h.example/v?bodySHA256={}", body_sha256(body));
        let sig = signature("t", &url, &[]);
        assert!(verify("t", &Signed { url: &url, form: &[], body, header: Some(&sig) }));
        assert!(!verify("t", &Signed { url: &url, form: &[], body: br#"{"CallSid":"CA2"}"#, header: Some(&sig) }), "body changed");
    }
}
