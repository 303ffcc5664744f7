//! The Plivo codec: `start` admits only this number's call, account and format; audio in each
//! of the three formats both ways; the other events; what is refused.

use super::*;
use crate::telephony::plivo::media::Start;

const NOW: i64 = 1_800_000_000;
const SECRET: &str = "number-secret-0123456789abcdef";
const ACCOUNT: &str = "MA0123456789ABCDEFGH";

fn auth(now: i64) -> StreamAuth {
    StreamAuth { provider: Provider::Plivo, secret: SECRET.into(), phone_id: "p1".into(), now }
}

fn good(call: &str) -> Option<String> {
    Some(token::issue(SECRET, Provider::Plivo, "p1", call, NOW))
}

fn codec(format: AudioFormat, presented: Option<String>) -> PlivoCodec {
    PlivoCodec::new(auth(NOW), presented, format, Some(ACCOUNT.into()))
}

fn start_of(call: &str, format: AudioFormat) -> Start {
    Start {
        call_id: call.into(),
        stream_id: "st-1".into(),
        account_id: ACCOUNT.into(),
        tracks: vec!["inbound".into()],
        encoding: Some(format.encoding().into()),
        sample_rate: Some(format.rate()),
        extra_headers: Some("agentId=ag1;tenant=t9".into()),
    }
}

fn start(call: &str, format: AudioFormat) -> String {
    media::encode_inbound(1, &Inbound::Start(start_of(call, format)))
}

/// A codec past a good `start`.
fn started(format: AudioFormat) -> PlivoCodec {
    let mut c = codec(format, good("c1"));
    c.decode(WireIn::Text(&start("c1", format))).unwrap();
    c
}

fn text(out: WireOut) -> String {
    let WireOut::Text(t) = out else { panic!("Plivo takes text frames only") };
    t
}

#[test]
fn start_needs_the_calls_token() {
    let StreamEvent::Start(s) =
        codec(AudioFormat::Mulaw8000, good("c1")).decode(WireIn::Text(&start("c1", AudioFormat::Mulaw8000))).unwrap()
    else {
        panic!("start")
    };
    assert_eq!((s.call_sid.as_str(), s.stream_sid.as_str(), s.sample_rate), ("c1", "st-1", Some(8000)));
    assert_eq!(s.parameters.get("agentId").map(String::as_str), Some("ag1"));
    assert_eq!(s.parameters.get("tenant").map(String::as_str), Some("t9"));
    assert_eq!(s.parameters.get("AccountId").map(String::as_str), Some(ACCOUNT));
    let expired = PlivoCodec::new(auth(NOW + token::LIFETIME_SECS + 1), good("c1"), AudioFormat::Mulaw8000, None);
    let twilios = Some(token::issue(SECRET, Provider::Twilio, "p1", "c1", NOW));
    for (name, mut c) in [
        ("missing", codec(AudioFormat::Mulaw8000, None)),
        ("another call's", codec(AudioFormat::Mulaw8000, good("c2"))),
        ("malformed", codec(AudioFormat::Mulaw8000, Some("1.00".into()))),
        ("another provider's", codec(AudioFormat::Mulaw8000, twilios)),
        ("expired", expired),
    ] {
        let e = c.decode(WireIn::Text(&start("c1", AudioFormat::Mulaw8000))).unwrap_err();
        assert_eq!(e.code, token::BAD_TOKEN, "{name} token: {e}");
    }
}

#[test]
fn start_must_be_on_the_numbers_account() {
    let mut other = start_of("c1", AudioFormat::Mulaw8000);
    other.account_id = "MAZZZZZZZZZZZZZZZZZZ".into();
    let message = media::encode_inbound(1, &Inbound::Start(other));
    let e = codec(AudioFormat::Mulaw8000, good("c1")).decode(WireIn::Text(&message)).unwrap_err();
    assert_eq!(e.code, 1008, "{e}");
    // Without an auth id on either side there is nothing to compare.
    let unknown = PlivoCodec::new(auth(NOW), good("c1"), AudioFormat::Mulaw8000, None);
    assert!(matches!(unknown.clone().decode(WireIn::Text(&message)), Ok(StreamEvent::Start(_))));
    let mut silent = start_of("c1", AudioFormat::Mulaw8000);
    silent.account_id = String::new();
    let message = media::encode_inbound(1, &Inbound::Start(silent));
    let StreamEvent::Start(s) = codec(AudioFormat::Mulaw8000, good("c1")).decode(WireIn::Text(&message)).unwrap() else { panic!("start") };
    assert!(!s.parameters.contains_key("AccountId"));
}

#[test]
fn start_must_stream_the_answers_format() {
    for ours in AudioFormat::ALL {
        for theirs in AudioFormat::ALL {
            let result = codec(ours, good("c1")).decode(WireIn::Text(&start("c1", theirs)));
            if ours == theirs {
                assert!(matches!(result, Ok(StreamEvent::Start(_))), "{ours:?}");
            } else {
                let e = result.unwrap_err();
                assert_eq!(e.code, 1003, "{ours:?} vs {theirs:?}");
                assert!(e.reason.contains(ours.content_type()) && e.reason.contains(theirs.encoding()), "{}", e.reason);
            }
        }
    }
    // A start that does not say its format is taken at the answer's.
    let mut bare = start_of("c1", AudioFormat::Linear16000);
    (bare.encoding, bare.sample_rate) = (None, None);
    let message = media::encode_inbound(1, &Inbound::Start(bare));
    assert!(matches!(codec(AudioFormat::Linear16000, good("c1")).decode(WireIn::Text(&message)), Ok(StreamEvent::Start(_))));
}

#[test]
fn audio_is_the_answers_format_both_ways() {
    let samples = vec![0i16, 1000, -1000, 32767, -32768];
    for format in AudioFormat::ALL {
        let mut c = started(format);
        let rate = format.rate() as usize;
        assert_eq!(c.audio(), CallAudio { rate: format.rate(), chunks: ChunkRules { multiple: rate / 50, min: rate / 50, max: rate * 2 } });
        let payload = format.to_bytes(&samples);
        let media = media::encode_inbound(2, &Inbound::Media { chunk: Some(1), timestamp_ms: Some(20), audio: payload.clone() });
        let StreamEvent::Caller(CallerEvent::Audio(heard)) = c.decode(WireIn::Text(&media)).unwrap() else { panic!("audio") };
        let out = media::decode_outbound(&text(c.encode(&AgentFrame::Audio(samples.clone())))).unwrap();
        assert_eq!(out, Outbound::PlayAudio { format, audio: payload.clone() });
        if format == AudioFormat::Mulaw8000 {
            assert_eq!(payload, [0xFF, 206, 78, 0x80, 0x00]);
            assert_eq!(heard, [0, 988, -988, 32124, -32124]);
        } else {
            assert_eq!(payload[..4], [0x00, 0x00, 0xE8, 0x03], "little-endian");
            assert_eq!(heard, samples);
        }
    }
    // Half a 16-bit sample is malformed.
    let odd = media::encode_inbound(2, &Inbound::Media { chunk: None, timestamp_ms: None, audio: vec![1, 2, 3] });
    assert_eq!(started(AudioFormat::Linear8000).decode(WireIn::Text(&odd)).unwrap_err().code, 1007);
    assert!(started(AudioFormat::Mulaw8000).decode(WireIn::Text(&odd)).is_ok());
}

#[test]
fn marks_and_clears_name_the_stream() {
    let mut c = started(AudioFormat::Mulaw8000);
    let mark = media::decode_outbound(&text(c.encode(&AgentFrame::Mark("utt-3".into())))).unwrap();
    assert_eq!(mark, Outbound::Checkpoint { stream_id: "st-1".into(), name: "utt-3".into() });
    let clear = media::decode_outbound(&text(c.encode(&AgentFrame::Clear))).unwrap();
    assert_eq!(clear, Outbound::ClearAudio { stream_id: "st-1".into() });
}

#[test]
fn the_other_events_become_pipeline_events() {
    let mut c = started(AudioFormat::Linear16000);
    let dtmf = media::encode_inbound(3, &Inbound::Dtmf { digit: "#".into() });
    assert_eq!(c.decode(WireIn::Text(&dtmf)).unwrap(), StreamEvent::Caller(CallerEvent::Dtmf("#".into())));
    for event in ["playedStream", "played"] {
        let m = format!(r#"{{"event":"{event}","sequenceNumber":75,"streamId":"st-1","name":"utt-3"}}"#);
        assert_eq!(c.decode(WireIn::Text(&m)).unwrap(), StreamEvent::Caller(CallerEvent::Played("utt-3".into())), "{event}");
    }
    let cleared = media::encode_inbound(4, &Inbound::Cleared);
    assert_eq!(c.decode(WireIn::Text(&cleared)).unwrap(), StreamEvent::Ignored { event: "clearedAudio".into() });
    assert_eq!(
        c.decode(WireIn::Text(r#"{"event":"playFailed","reason":"x"}"#)).unwrap(),
        StreamEvent::Ignored { event: "playFailed".into() }
    );
    let stop = media::encode_inbound(5, &Inbound::Stop { reason: None });
    assert_eq!(c.decode(WireIn::Text(&stop)).unwrap(), StreamEvent::Stop { reason: Some("call ended".into()) });
    let stop = media::encode_inbound(5, &Inbound::Stop { reason: Some("x".repeat(500)) });
    let StreamEvent::Stop { reason: Some(reason) } = c.decode(WireIn::Text(&stop)).unwrap() else { panic!("stop") };
    assert_eq!(reason.len(), 120, "a peer's reason is bounded");
}

#[test]
fn what_plivo_never_sends_is_refused() {
    let mut c = started(AudioFormat::Mulaw8000);
    assert_eq!(c.decode(WireIn::Binary(&[1, 2])).unwrap_err().code, 1003);
    assert_eq!(c.decode(WireIn::Text("{")).unwrap_err().code, 1007);
    assert_eq!(c.decode(WireIn::Text(r#"{"event":"media","media":{"payload":"%%"}}"#)).unwrap_err().code, 1007);
    assert_eq!(c.decode(WireIn::Text(r#"{"event":"dtmf","dtmf":{"digit":"Z"}}"#)).unwrap_err().code, 1007);
    let big = format!(r#"{{"event":"media","media":{{"payload":"{}"}}}}"#, "A".repeat(media::MAX_MESSAGE));
    assert_eq!(c.decode(WireIn::Text(&big)).unwrap_err().code, 1009);
}

#[test]
fn media_before_start_is_read_and_left_to_the_session() {
    // The session acts on no caller event before `start` (it has no call yet).
    let mut c = codec(AudioFormat::Mulaw8000, good("c1"));
    let media = media::encode_inbound(1, &Inbound::Media { chunk: None, timestamp_ms: None, audio: vec![0xFF] });
    assert_eq!(c.decode(WireIn::Text(&media)).unwrap(), StreamEvent::Caller(CallerEvent::Audio(vec![0])));
}
