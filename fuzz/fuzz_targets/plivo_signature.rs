//! Plivo `X-Plivo-Signature-V3` checks on any method, URL, form, nonce and header: never a
//! panic, a header made of fuzz bytes is never accepted, and a request signed with the token
//! always verifies.
#![no_main]

use libfuzzer_sys::fuzz_target;
use server::telephony::plivo::signature;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut parts = text.splitn(4, '\n');
    let (url, body, nonce, header) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next(), parts.next());
    let form: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes()).into_owned().collect();
    // Any text as the query of a URL that parses.
    let query: String = form_urlencoded::byte_serialize(url.as_bytes()).collect();
    let good_url = format!("https://vox.example/api/telephony/plivo/answer/p1?q={query}&{url}");
    for method in ["GET", "POST"] {
        let _ = signature::signed_string(method, url, &form);
        // A random signature is never the token's (HMAC-SHA256: no input finds one).
        assert!(!signature::verify("token", method, url, &form, nonce, header), "a fuzzed header was accepted");
        assert!(!signature::verify("token", method, &good_url, &form, nonce, header), "a fuzzed header was accepted");
        if let Some(nonce) = nonce.filter(|n| !n.is_empty() && n.len() <= signature::MAX_HEADER) {
            let sig = signature::signature("token", &signature::signed_string(method, &good_url, &form), nonce);
            assert!(signature::verify("token", method, &good_url, &form, Some(nonce), Some(&sig)), "{method} {good_url}");
            assert!(!signature::verify("another token", method, &good_url, &form, Some(nonce), Some(&sig)));
        }
    }
});
