//! Plivo Audio Streaming messages, as text and through the codec after a valid `start`, in
//! each of the three formats: never a panic; a decoded message written back decodes to the
//! same message; our messages read back.
#![no_main]

use domain::phone_number::Provider;
use libfuzzer_sys::fuzz_target;
use server::telephony::plivo::codec::PlivoCodec;
use server::telephony::plivo::media::{self, AudioFormat, Inbound, Outbound, Start};
use server::telephony::stream::{StreamCodec, StreamEvent, WireIn, WireOut};
use server::telephony::token::{self, StreamAuth};
use server::voice::frames::AgentFrame;

const NOW: i64 = 1_800_000_000;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, data)) = data.split_first() else { return };
    let format = AudioFormat::ALL[usize::from(pick) % AudioFormat::ALL.len()];
    let secret = "s".repeat(32);
    let auth = StreamAuth { provider: Provider::Plivo, secret: secret.clone(), phone_id: "p1".into(), now: NOW };
    let presented = token::issue(&secret, Provider::Plivo, "p1", "c1", NOW);
    let mut codec = PlivoCodec::new(auth, Some(presented), format, Some("MA0123456789ABCDEFGH".into()));
    let start = Start {
        call_id: "c1".into(),
        stream_id: "st-1".into(),
        account_id: "MA0123456789ABCDEFGH".into(),
        tracks: vec!["inbound".into()],
        encoding: Some(format.encoding().into()),
        sample_rate: Some(format.rate()),
        extra_headers: None,
    };
    let started = codec.decode(WireIn::Text(&media::encode_inbound(1, &Inbound::Start(start))));
    assert!(matches!(started, Ok(StreamEvent::Start(_))), "a valid start is admitted");
    // The fuzzed text may be another good start; our marks are written by the codec as started.
    let mut as_started = codec.clone();
    let _ = codec.decode(WireIn::Binary(data));
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = codec.decode(WireIn::Text(text));
    if let Ok(message) = media::decode(text) {
        let again = media::decode(&media::encode_inbound(2, &message)).expect("our own message decodes");
        assert_eq!(again, message);
    }
    let _ = media::decode_outbound(text);
    let _ = media::extra_headers(text);
    // Whatever the text, our frames carrying it read back.
    let WireOut::Text(mark) = as_started.encode(&AgentFrame::Mark(text.into())) else { panic!("text") };
    if !text.is_empty() && mark.len() <= media::MAX_MESSAGE {
        let back = media::decode_outbound(&mark).expect("our checkpoint reads back");
        assert_eq!(back, Outbound::Checkpoint { stream_id: "st-1".into(), name: text.into() });
    }
});
