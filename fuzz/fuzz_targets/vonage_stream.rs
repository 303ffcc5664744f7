//! Vonage WebSocket messages, text and binary, through the codec after a valid
//! `websocket:connected`: never a panic; a decoded message written back decodes to the same
//! message; the first byte of each message picks text or binary.
#![no_main]

use domain::phone_number::Provider;
use libfuzzer_sys::fuzz_target;
use server::telephony::stream::{StreamCodec, StreamEvent, WireIn, WireOut};
use server::telephony::token::{self, StreamAuth};
use server::telephony::vonage::codec::VonageCodec;
use server::telephony::vonage::media;

const NOW: i64 = 1_800_000_000;
const CALL: &str = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab";

fn wire(w: &WireOut) -> WireIn<'_> {
    match w {
        WireOut::Text(s) => WireIn::Text(s),
        WireOut::Binary(b) => WireIn::Binary(b),
        WireOut::Frames(_) => unreachable!("the wire format writes one message at a time"),
    }
}

fuzz_target!(|data: &[u8]| {
    let secret = "s".repeat(32);
    let mut codec =
        VonageCodec::new(StreamAuth { provider: Provider::Vonage, secret: secret.clone(), phone_id: "p1".into(), now: NOW }, 16000);
    let good = token::issue(&secret, Provider::Vonage, "p1", CALL, NOW);
    let connected = format!(
        r#"{{"event":"websocket:connected","content-type":"audio/l16;rate=16000","call_uuid":"{CALL}","{}":"{good}"}}"#,
        token::PARAMETER
    );
    assert!(matches!(codec.decode(WireIn::Text(&connected)), Ok(StreamEvent::Start(_))));
    // Messages are separated by 0xFF; a message's first byte's low bit picks binary or text.
    for part in data.split(|&b| b == 0xFF) {
        let Some((&kind, body)) = part.split_first() else { continue };
        let message = if kind & 1 == 1 {
            WireIn::Binary(body)
        } else {
            let Ok(text) = std::str::from_utf8(body) else { continue };
            WireIn::Text(text)
        };
        let _ = codec.decode(message);
        // Written back, a number may grow ("1e5" is "100000.0"): past the limit it is refused.
        let fits = |w: &WireOut| !matches!(w, WireOut::Text(t) if t.len() > media::MAX_TEXT);
        if let Ok(m) = media::decode(message) {
            let again = media::encode_inbound(&m);
            if fits(&again) {
                assert_eq!(media::decode(wire(&again)).expect("our own message decodes"), m);
            }
        }
        if let Ok(m) = media::decode_outbound(message) {
            let again = media::encode(&m);
            if fits(&again) {
                assert_eq!(media::decode_outbound(wire(&again)).expect("our own message decodes"), m);
            }
        }
    }
});
