//! Vonage signed-webhook checks on any Authorization header and body: never a panic, never an
//! unsigned token accepted, and a request signed with the secret over its body always verifies.
#![no_main]

use libfuzzer_sys::fuzz_target;
use server::telephony::vonage::signature::{self, Claims, Expect};

const SECRET: &str = "test-signature-secret-0123456789";
const NOW: i64 = 1_800_000_000;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (header, body) = text.split_once('\n').unwrap_or((text, ""));
    let expect = Expect { api_key: "a1b2c3d".into(), application_id: Some("app".into()) };
    // A token the fuzzer made up is never Vonage's (it cannot forge an HMAC).
    assert!(signature::verify(SECRET, Some(header), body.as_bytes(), &expect, NOW).is_err());
    let _ = signature::verify("", Some(header), body.as_bytes(), &expect, NOW);
    let claims = Claims {
        iat: NOW,
        jti: header.chars().take(40).collect(),
        iss: "Vonage".into(),
        payload_hash: Some(signature::payload_hash(body.as_bytes())),
        api_key: Some("a1b2c3d".into()),
        application_id: Some("app".into()),
    };
    let signed = format!("Bearer {}", signature::sign(SECRET, &claims));
    assert_eq!(signature::verify(SECRET, Some(&signed), body.as_bytes(), &expect, NOW), Ok(claims));
});
