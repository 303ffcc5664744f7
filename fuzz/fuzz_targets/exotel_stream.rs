//! Voicebot stream frames, as text and through the codec (text and binary): never a panic;
//! a decoded frame written back decodes to the same frame.
#![no_main]

use libfuzzer_sys::fuzz_target;
use server::telephony::exotel::codec::ExotelCodec;
use server::telephony::exotel::stream;
use server::telephony::stream::{StreamCodec, WireIn};

fuzz_target!(|data: &[u8]| {
    let mut codec = ExotelCodec::new(8000);
    let _ = codec.decode(WireIn::Binary(data));
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = codec.decode(WireIn::Text(text));
    if let Ok(frame) = stream::decode(text) {
        let again = stream::decode(&stream::encode_inbound("MZ1", 1, &frame)).expect("our own frame decodes");
        assert_eq!(again, frame);
    }
    let _ = stream::decode_outbound(text);
});
