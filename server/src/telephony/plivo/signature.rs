//! `X-Plivo-Signature-V3` (shared/protocols/PLIVO.md §6): base64 of HMAC-SHA256, keyed by the
//! account's auth token, over a string built from the URL Plivo called and the parameters it
//! sent, followed by `.` and the request's nonce. The string is built as plivo-python's
//! `construct_get_url`/`construct_post_url` build it: the URL's scheme, host and path, then its
//! query (decoded, sorted) and, for a POST with a body, every body parameter sorted and written
//! `keyvalue` without separators. The URL is split as written (like Python's `urlparse`), never
//! normalised, since Plivo signs the URL as configured; the `url` crate only decides whether it
//! is a URL at all. Like twilio/signature.rs, the URL is tried with and without the scheme's
//! default port. Pure; `signature` is also what the simulator signs with.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::telephony::twilio::signature::url_variants;

/// The header with the signature(s) of the (sub)account's auth token.
pub const HEADER: &str = "X-Plivo-Signature-V3";
/// The header with the signature of the main account's auth token (same algorithm).
pub const HEADER_MAIN: &str = "X-Plivo-Signature-Ma-V3";
/// The header with the nonce every signature covers.
pub const NONCE: &str = "X-Plivo-Signature-V3-Nonce";
/// Longest signature or nonce header we read, in bytes.
pub const MAX_HEADER: usize = 4 * 1024;
/// Most comma-separated signatures one header may hold.
pub const MAX_SIGNATURES: usize = 10;

/// Parameters by name, each name's values in the order received.
fn grouped(pairs: impl IntoIterator<Item = (String, String)>, into: &mut BTreeMap<String, Vec<String>>) {
    for (k, v) in pairs {
        into.entry(k).or_default().push(v);
    }
}

/// `k=v&k=w&k2=x`: names sorted, each name's values sorted (repeats kept, as Python's `sorted`).
fn query_string(params: &BTreeMap<String, Vec<String>>) -> String {
    let mut out = Vec::new();
    for (k, values) in params {
        let mut values = values.clone();
        values.sort();
        out.extend(values.iter().map(|v| format!("{k}={v}")));
    }
    out.join("&")
}

/// The URL without query and fragment (scheme lowercased, `;params` of the last path segment
/// dropped, as `urlparse`/`urlunparse` do for http and https), and its raw query.
fn split(url: &str) -> (String, &str) {
    let url = url.split_once('#').map_or(url, |(u, _)| u);
    let (before, query) = url.split_once('?').unwrap_or((url, ""));
    let Some((scheme, rest)) = before.split_once("://") else { return (before.to_string(), query) };
    let scheme = scheme.to_ascii_lowercase();
    let (netloc, mut path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    if matches!(scheme.as_str(), "http" | "https") {
        let last = path.rfind('/').unwrap_or(0);
        if let Some(i) = path[last..].find(';') {
            path = &path[..last + i];
        }
    }
    (format!("{scheme}://{netloc}{path}"), query)
}

/// The string Plivo signs for a `method` ("GET" or "POST"; anything else is taken as POST, as
/// plivo-python does) request to `url` (full, with its query, as called) whose form body held
/// `body`. For a GET, `body` is what was received besides the URL's query (usually nothing: a
/// name in both counts once, with the URL's values).
pub fn signed_string(method: &str, url: &str, body: &[(String, String)]) -> String {
    let (mut s, raw_query) = split(url);
    let get = method.eq_ignore_ascii_case("GET");
    let mut query: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if get {
        grouped(body.iter().cloned(), &mut query);
    }
    let mut from_url = BTreeMap::new();
    grouped(form_urlencoded::parse(raw_query.as_bytes()).into_owned(), &mut from_url);
    // The URL's values replace received ones of the same name (a dict update in plivo-python).
    query.extend(from_url);
    let query = query_string(&query);
    if get || body.is_empty() {
        if !query.is_empty() {
            s.push('?');
            s.push_str(&query);
        }
        return s;
    }
    s.push('?');
    s.push_str(&query);
    if !query.is_empty() {
        s.push('.');
    }
    let mut form = BTreeMap::new();
    grouped(body.iter().cloned(), &mut form);
    for (k, mut values) in form {
        values.sort();
        for v in values {
            s.push_str(&k);
            s.push_str(&v);
        }
    }
    s
}

/// The signature of `signed_string` (from [`signed_string`]) with `nonce`:
/// base64(HMAC-SHA256(auth_token, signed_string + "." + nonce)).
pub fn signature(auth_token: &str, signed_string: &str, nonce: &str) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(auth_token.as_bytes()).expect("HMAC takes any key length");
    m.update(signed_string.as_bytes());
    m.update(b".");
    m.update(nonce.as_bytes());
    STANDARD.encode(m.finalize().into_bytes())
}

/// Whether a `method` request to `url` with form `body` carries, in `header` (one or several
/// comma-separated signatures), a signature of `auth_token` over it and `nonce`. Refused: a
/// missing or empty token, nonce or header, a method other than GET or POST, a `url` that is
/// not a URL, a header or nonce over [`MAX_HEADER`] bytes, more than [`MAX_SIGNATURES`]
/// signatures. Comparisons are constant-time.
pub fn verify(auth_token: &str, method: &str, url: &str, body: &[(String, String)], nonce: Option<&str>, header: Option<&str>) -> bool {
    let (Some(nonce), Some(header)) = (nonce, header) else { return false };
    if auth_token.is_empty() || nonce.is_empty() || nonce.len() > MAX_HEADER || header.len() > MAX_HEADER {
        return false;
    }
    if !(method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("POST")) || url::Url::parse(url).is_err() {
        return false;
    }
    if header.split(',').count() > MAX_SIGNATURES {
        return false;
    }
    let presented: Vec<&str> = header.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    let mut accepted = false;
    for variant in url_variants(url) {
        let expected = signature(auth_token, &signed_string(method, &variant, body), nonce);
        for p in &presented {
            accepted |= bool::from(expected.as_bytes().ct_eq(p.as_bytes()));
        }
    }
    accepted
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "MY_AUTH_TOKEN";
    const NONCE_1: &str = "05429567804466091622";
    const UUID: &str = "e2a1b2c3-0000-4000-8000-000000000001";

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn call() -> Vec<(String, String)> {
        p(&[("To", "14155550199"), ("CallUUID", UUID), ("From", "14155550100")])
    }

    #[test]
    fn the_worked_vectors_of_the_protocol_notes() {
        // PLIVO.md §6, computed with plivo-python's construct_*_url and get_signature_v3.
        let post = signed_string("POST", "https://example.com/answer", &call());
        assert_eq!(post, format!("https://example.com/answer?CallUUID{UUID}From14155550100To14155550199"));
        assert_eq!(signature(TOKEN, &post, NONCE_1), "pbmJOnL+sbTCxtQACfKi76X8JYi+FV7XUGfevK0LCWc=");

        let query = signed_string("POST", "https://example.com/answer?agent=a1", &call());
        assert_eq!(query, format!("https://example.com/answer?agent=a1.CallUUID{UUID}From14155550100To14155550199"));
        assert_eq!(signature(TOKEN, &query, NONCE_1), "rn8NGRF60l5JtPObL8JnLTUzB/Tu17etz02nXc/jrQg=");

        let get_url = format!("https://example.com/answer?To=14155550199&From=14155550100&CallUUID={UUID}");
        let get = signed_string("GET", &get_url, &[]);
        assert_eq!(get, format!("https://example.com/answer?CallUUID={UUID}&From=14155550100&To=14155550199"));
        assert_eq!(signature(TOKEN, &get, NONCE_1), "7vRXeO/IJeTfqbFN/MagsaSUmOq26nr1W/K6CiWSc1k=");

        for (method, url, body, sig) in [
            ("POST", "https://example.com/answer", call(), "pbmJOnL+sbTCxtQACfKi76X8JYi+FV7XUGfevK0LCWc="),
            ("POST", "https://example.com/answer?agent=a1", call(), "rn8NGRF60l5JtPObL8JnLTUzB/Tu17etz02nXc/jrQg="),
            ("GET", get_url.as_str(), vec![], "7vRXeO/IJeTfqbFN/MagsaSUmOq26nr1W/K6CiWSc1k="),
        ] {
            assert!(verify(TOKEN, method, url, &body, Some(NONCE_1), Some(sig)), "{method} {url}");
        }
    }

    #[test]
    fn a_get_counts_the_received_parameters_once_with_the_urls_values() {
        let get_url = format!("https://example.com/answer?To=14155550199&From=14155550100&CallUUID={UUID}");
        let expected = signed_string("GET", &get_url, &[]);
        // The same parameters received again (a framework's merged view) change nothing.
        assert_eq!(signed_string("get", &get_url, &call()), expected);
        // Received without the query in the URL, they are signed the same way.
        assert_eq!(signed_string("GET", "https://example.com/answer", &call()), expected);
        // The URL's value wins over a received one of the same name.
        assert_eq!(signed_string("GET", "https://h/a?x=1", &p(&[("x", "2"), ("y", "3")])), "https://h/a?x=1&y=3");
    }

    #[test]
    fn the_string_follows_pythons_url_split_and_sorting() {
        // Repeated names: every value, sorted, repeats kept; the query is decoded.
        assert_eq!(signed_string("GET", "https://h/a?b=2&a=z&a=y&a=y&c=%41+b", &[]), "https://h/a?a=y&a=y&a=z&b=2&c=A b");
        assert_eq!(signed_string("POST", "https://h/a", &p(&[("B", "2"), ("A", "z"), ("A", "y")])), "https://h/a?AyAzB2");
        // An empty POST body is signed as a GET.
        assert_eq!(signed_string("POST", "https://h/a?x=1", &[]), "https://h/a?x=1");
        assert_eq!(signed_string("POST", "https://h/a", &[]), "https://h/a");
        // No fragment; scheme lowercased; the port kept as written; `;params` dropped.
        assert_eq!(signed_string("GET", "HTTPS://H.example:8443/a/b;v=1?x=1#frag", &[]), "https://H.example:8443/a/b?x=1");
    }

    #[test]
    fn wrong_or_missing_proofs_are_refused() {
        let url = "https://example.com/answer";
        let good = "pbmJOnL+sbTCxtQACfKi76X8JYi+FV7XUGfevK0LCWc=";
        assert!(verify(TOKEN, "POST", url, &call(), Some(NONCE_1), Some(good)));
        assert!(!verify("OTHER_TOKEN", "POST", url, &call(), Some(NONCE_1), Some(good)), "wrong token");
        let tampered = p(&[("To", "14155550198"), ("CallUUID", UUID), ("From", "14155550100")]);
        assert!(!verify(TOKEN, "POST", url, &tampered, Some(NONCE_1), Some(good)), "tampered parameter");
        let mut extra = call();
        extra.push(("Direction".into(), "inbound".into()));
        assert!(!verify(TOKEN, "POST", url, &extra, Some(NONCE_1), Some(good)), "a parameter not signed");
        assert!(!verify(TOKEN, "POST", url, &call(), None, Some(good)), "no nonce");
        assert!(!verify(TOKEN, "POST", url, &call(), Some(""), Some(good)), "empty nonce");
        assert!(!verify(TOKEN, "POST", url, &call(), Some("05429567804466091623"), Some(good)), "another nonce");
        assert!(!verify(TOKEN, "POST", url, &call(), Some(NONCE_1), None), "no header");
        assert!(!verify(TOKEN, "POST", url, &call(), Some(NONCE_1), Some("")), "empty header");
        assert!(!verify(TOKEN, "GET", url, &call(), Some(NONCE_1), Some(good)), "another method");
        assert!(!verify(TOKEN, "PUT", url, &call(), Some(NONCE_1), Some(good)), "not GET or POST");
        assert!(!verify(TOKEN, "POST", "https://example.com/answer?agent=a1", &call(), Some(NONCE_1), Some(good)), "another URL");
        assert!(!verify("", "POST", url, &call(), Some(NONCE_1), Some(&signature("", &signed_string("POST", url, &call()), NONCE_1))));
        assert!(!verify(TOKEN, "POST", "/answer", &call(), Some(NONCE_1), Some(good)), "not a URL");
    }

    #[test]
    fn one_good_signature_among_several_is_enough_within_bounds() {
        let url = "https://example.com/answer";
        let good = "pbmJOnL+sbTCxtQACfKi76X8JYi+FV7XUGfevK0LCWc=";
        let bad = "rn8NGRF60l5JtPObL8JnLTUzB/Tu17etz02nXc/jrQg=";
        assert!(verify(TOKEN, "POST", url, &call(), Some(NONCE_1), Some(&format!("{bad},{good}"))));
        assert!(verify(TOKEN, "POST", url, &call(), Some(NONCE_1), Some(&format!("{bad}, {good}"))));
        assert!(!verify(TOKEN, "POST", url, &call(), Some(NONCE_1), Some(&format!("{bad},{bad}"))));
        // Ten signatures are read; an eleventh refuses the header, even with the good one in it.
        let nine = [bad; 9].join(",");
        assert!(verify(TOKEN, "POST", url, &call(), Some(NONCE_1), Some(&format!("{nine},{good}"))));
        assert!(!verify(TOKEN, "POST", url, &call(), Some(NONCE_1), Some(&format!("{nine},{bad},{good}"))));
        let huge = format!("{},{good}", "A".repeat(MAX_HEADER));
        assert!(!verify(TOKEN, "POST", url, &call(), Some(NONCE_1), Some(&huge)), "header over 4 KiB");
        assert!(!verify(TOKEN, "POST", url, &call(), Some(&"1".repeat(MAX_HEADER + 1)), Some(good)), "nonce over 4 KiB");
    }

    #[test]
    fn the_default_port_may_or_may_not_be_signed() {
        let with_port = "https://example.com:443/answer";
        let sig = signature(TOKEN, &signed_string("POST", with_port, &call()), NONCE_1);
        assert_ne!(sig, "pbmJOnL+sbTCxtQACfKi76X8JYi+FV7XUGfevK0LCWc=", "the port is part of the signed string");
        assert!(verify(TOKEN, "POST", "https://example.com/answer", &call(), Some(NONCE_1), Some(&sig)));
        assert!(verify(TOKEN, "POST", with_port, &call(), Some(NONCE_1), Some("pbmJOnL+sbTCxtQACfKi76X8JYi+FV7XUGfevK0LCWc=")));
        let other_port = signature(TOKEN, &signed_string("POST", "https://example.com:8443/answer", &call()), NONCE_1);
        assert!(!verify(TOKEN, "POST", "https://example.com/answer", &call(), Some(NONCE_1), Some(&other_port)));
    }
}
