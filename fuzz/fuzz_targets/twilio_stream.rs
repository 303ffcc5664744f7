//! Twilio Media Stream messages, as text and through the codec: never a panic; a decoded
//! message written back decodes to the same message; μ-law round-trips.
#![no_main]

use libfuzzer_sys::fuzz_target;
use server::telephony::g711;
use server::telephony::stream::{StreamCodec, WireIn};
use domain::phone_number::Provider;
use server::telephony::token::StreamAuth;
use server::telephony::twilio::codec::TwilioCodec;
use server::telephony::twilio::media;

fuzz_target!(|data: &[u8]| {
    let mut codec = TwilioCodec::new(StreamAuth { provider: Provider::Twilio, secret: "s".repeat(32), phone_id: "p1".into(), now: 1_800_000_000 });
    let _ = codec.decode(WireIn::Binary(data));
    // Every μ-law byte decodes, and re-encodes to itself (but for negative zero).
    for (&code, sample) in data.iter().zip(g711::decode(data)) {
        assert_eq!(g711::encode_sample(sample), if code == 0x7F { 0xFF } else { code });
    }
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = codec.decode(WireIn::Text(text));
    if let Ok(message) = media::decode(text) {
        let again = media::decode(&media::encode_inbound("MZ1", 1, &message)).expect("our own message decodes");
        assert_eq!(again, message);
    }
    let _ = media::decode_outbound(text);
});
