//! Webhook parameters (query string, form or JSON body, any content type): never a panic;
//! what parses is a call with a well-formed call id.
#![no_main]

use libfuzzer_sys::fuzz_target;
use server::telephony::params::CallParams;

fuzz_target!(|data: &[u8]| {
    // The first bytes choose the content type and split the query from the body.
    let Some((&kind, rest)) = data.split_first() else { return };
    let split = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
    let (query, body) = rest.split_at(split);
    let Ok(query) = std::str::from_utf8(query) else { return };
    let content_type = match kind % 4 {
        0 => None,
        1 => Some("application/x-www-form-urlencoded"),
        2 => Some("application/json; charset=utf-8"),
        _ => Some("text/plain"),
    };
    if let Ok(params) = CallParams::parse(query, content_type, body.get(1..).unwrap_or_default()) {
        assert!(!params.call_sid.is_empty());
        assert!(params.call_sid.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'), "{:?}", params.call_sid);
    }
});
