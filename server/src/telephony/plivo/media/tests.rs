//! Plivo's stream messages: the documented examples read, bad ones typed, ours written as
//! Plivo expects, and both directions round-trip.

use super::*;
use proptest::prelude::*;

#[test]
fn the_three_formats_have_their_names_and_rates() {
    for f in AudioFormat::ALL {
        assert_eq!(AudioFormat::parse(f.content_type()), Some(f));
        assert_eq!(AudioFormat::from_parts(f.encoding(), f.rate()), Some(f));
        assert!(f.content_type().starts_with(f.encoding()));
    }
    assert_eq!(AudioFormat::parse("audio/x-mulaw;rate=8000"), Some(AudioFormat::Mulaw8000));
    assert_eq!(AudioFormat::parse(" Audio/X-L16; rate=16000 "), Some(AudioFormat::Linear16000));
    assert_eq!(AudioFormat::Linear8000.content_type(), "audio/x-l16;rate=8000");
    assert_eq!((AudioFormat::Linear16000.encoding(), AudioFormat::Linear16000.rate()), ("audio/x-l16", 16000));
    for bad in ["audio/x-mulaw;rate=16000", "audio/x-l16", "audio/x-l16;rate=24000", "wav", ""] {
        assert_eq!(AudioFormat::parse(bad), None, "{bad}");
    }
    assert_eq!(AudioFormat::from_parts("audio/x-mulaw", 16000), None);
}

#[test]
fn linear_audio_is_little_endian_and_mulaw_is_g711() {
    let f = AudioFormat::Linear16000;
    assert_eq!(f.to_bytes(&[1, -2, 0x1234]), [0x01, 0x00, 0xFE, 0xFF, 0x34, 0x12]);
    assert_eq!(f.to_samples(&[0x01, 0x00, 0xFE, 0xFF, 0x34, 0x12]).unwrap(), [1, -2, 0x1234]);
    assert_eq!(AudioFormat::Linear8000.to_samples(&[1, 2, 3]), Err(MediaError::OddLength));
    assert_eq!(AudioFormat::Mulaw8000.to_samples(&[0xFF, 0x80, 0x00]).unwrap(), [0, 32124, -32124]);
    assert_eq!(AudioFormat::Mulaw8000.to_bytes(&[0, 1000, -1000]), [0xFF, 206, 78]);
}

#[test]
fn the_documented_messages_are_read() {
    // PLIVO.md §3.3, as Plivo sends them.
    let start = r#"{"event":"start","sequenceNumber":1,
        "start":{"callId":"12345678-1234-1234-1234-123456789abc","streamId":"87654321-4321-4321-4321-cba987654321",
        "accountId":"MAXXXXXXXXXXXXXXXXXX","tracks":["inbound"],
        "mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000}},
        "extra_headers":"userId=12345;sessionId=abc-xyz"}"#;
    let Inbound::Start(s) = decode(start).unwrap() else { panic!("start") };
    assert_eq!(s.call_id, "12345678-1234-1234-1234-123456789abc");
    assert_eq!(s.stream_id, "87654321-4321-4321-4321-cba987654321");
    assert_eq!(s.account_id, "MAXXXXXXXXXXXXXXXXXX");
    assert_eq!(s.tracks, ["inbound"]);
    assert_eq!((s.encoding.as_deref(), s.sample_rate), (Some("audio/x-mulaw"), Some(8000)));
    assert_eq!(s.extra_headers.as_deref(), Some("userId=12345;sessionId=abc-xyz"));
    let media = r#"{"event":"media","sequenceNumber":42,"streamId":"87654321","media":{"track":"inbound","timestamp":"1705312200000","chunk":41,"payload":"/38A"},"extra_headers":"userId=12345"}"#;
    assert_eq!(
        decode(media).unwrap(),
        Inbound::Media { chunk: Some(41), timestamp_ms: Some(1_705_312_200_000), audio: vec![0xFF, 0x7F, 0x00] }
    );
    let dtmf =
        r#"{"event":"dtmf","sequenceNumber":50,"streamId":"87654321","dtmf":{"track":"inbound","digit":"5","timestamp":"1705312250000"}}"#;
    assert_eq!(decode(dtmf).unwrap(), Inbound::Dtmf { digit: "5".into() });
    let played = r#"{"event":"playedStream","sequenceNumber":75,"streamId":"87654321","name":"utt-3"}"#;
    assert_eq!(decode(played).unwrap(), Inbound::Played { name: "utt-3".into() });
    assert_eq!(decode(r#"{"event":"played","sequenceNumber":"76","name":"utt 4"}"#).unwrap(), Inbound::Played { name: "utt 4".into() });
    assert_eq!(decode(r#"{"event":"clearedAudio","sequenceNumber":80,"streamId":"87654321"}"#).unwrap(), Inbound::Cleared);
    assert_eq!(decode(r#"{"event":"stop"}"#).unwrap(), Inbound::Stop { reason: None });
    assert_eq!(decode(r#"{"event":"stop","stop":{"reason":"hangup"}}"#).unwrap(), Inbound::Stop { reason: Some("hangup".into()) });
}

#[test]
fn counters_and_rates_may_be_strings() {
    let start = r#"{"event":"start","sequenceNumber":"1","start":{"callId":"c1","streamId":"s1","mediaFormat":{"encoding":"audio/x-l16","sampleRate":"16000"}}}"#;
    let Inbound::Start(s) = decode(start).unwrap() else { panic!("start") };
    assert_eq!((s.sample_rate, s.account_id.as_str(), s.extra_headers), (Some(16000), "", None));
    let media = r#"{"event":"media","media":{"chunk":"7","timestamp":12,"payload":"AAE="}}"#;
    assert_eq!(decode(media).unwrap(), Inbound::Media { chunk: Some(7), timestamp_ms: Some(12), audio: vec![0, 1] });
}

#[test]
fn extra_headers_are_read_in_all_three_spellings() {
    let want: BTreeMap<String, String> = [("agentId", "ag123"), ("tenant", "t9")].map(|(k, v)| (k.to_string(), v.to_string())).into();
    assert_eq!(extra_headers("agentId=ag123;tenant=t9"), want);
    assert_eq!(extra_headers("agentId=ag123,tenant=t9"), want);
    assert_eq!(extra_headers(r#"{"agentId":"ag123","tenant":"t9"}"#), want);
    assert_eq!(extra_headers(" agentId = ag123 ; ; junk ; =x ; tenant=t9 "), want);
    assert_eq!(
        extra_headers(r#"{"n":5,"b":true,"o":{}}"#).into_iter().collect::<Vec<_>>(),
        [("b".into(), "true".into()), ("n".into(), "5".into())]
    );
    assert_eq!(extra_headers(&"k=v;".repeat(100)).len(), 1);
    let many: String = (0..100).map(|i| format!("k{i}=v;")).collect();
    assert_eq!(extra_headers(&many).len(), MAX_EXTRA_HEADERS);
    // The JSON object may also arrive unquoted.
    let start = r#"{"event":"start","start":{"callId":"c1","streamId":"s1"},"extra_headers":{"agentId":"ag123","tenant":"t9"}}"#;
    let Inbound::Start(s) = decode(start).unwrap() else { panic!("start") };
    assert_eq!(extra_headers(s.extra_headers.as_deref().unwrap()), want);
}

#[test]
fn bad_messages_are_typed_errors() {
    assert_eq!(decode("{"), Err(MediaError::NotJson));
    assert_eq!(decode(r#"{"streamId":"s1"}"#), Err(MediaError::NoEvent));
    assert_eq!(decode(r#"{"event":"party"}"#), Err(MediaError::UnknownEvent("party".into())));
    assert_eq!(decode(r#"{"event":"start","start":{"streamId":"s1"}}"#), Err(MediaError::Missing { event: "start", field: "callId" }));
    assert_eq!(decode(r#"{"event":"start","start":{"callId":"c1"}}"#), Err(MediaError::Missing { event: "start", field: "streamId" }));
    assert_eq!(decode(r#"{"event":"start"}"#), Err(MediaError::Missing { event: "start", field: "start" }));
    assert_eq!(
        decode(r#"{"event":"start","streamId":"","start":{"callId":"c1"}}"#),
        Err(MediaError::Missing { event: "start", field: "streamId" })
    );
    let top = r#"{"event":"start","streamId":"s9","start":{"callId":"c1"}}"#;
    assert!(matches!(decode(top), Ok(Inbound::Start(Start { stream_id, .. })) if stream_id == "s9"), "the top-level streamId will do");
    assert_eq!(decode(r#"{"event":"media","media":{"payload":"%%"}}"#), Err(MediaError::BadBase64));
    assert_eq!(decode(r#"{"event":"media","media":{}}"#), Err(MediaError::Missing { event: "media", field: "payload" }));
    assert_eq!(decode(r#"{"event":"dtmf","dtmf":{}}"#), Err(MediaError::Missing { event: "dtmf", field: "digit" }));
    for bad in ["E", "55", "x", " ", "\u{0665}"] {
        let m = json!({ "event": "dtmf", "dtmf": { "digit": bad } }).to_string();
        assert!(matches!(decode(&m), Err(MediaError::BadDigit | MediaError::Missing { .. })), "{bad}");
    }
    for good in ["0", "9", "*", "#", "A", "d"] {
        let m = json!({ "event": "dtmf", "dtmf": { "digit": good } }).to_string();
        assert_eq!(decode(&m).unwrap(), Inbound::Dtmf { digit: good.to_ascii_uppercase() });
    }
    assert_eq!(decode(r#"{"event":"playedStream"}"#), Err(MediaError::Missing { event: "playedStream", field: "name" }));
    let big = format!(r#"{{"event":"media","media":{{"payload":"{}"}}}}"#, "A".repeat(MAX_MESSAGE));
    assert_eq!(decode(&big), Err(MediaError::TooLarge));
    assert_eq!(decode_outbound(&big), Err(MediaError::TooLarge));
}

#[test]
fn our_messages_are_written_as_plivo_reads_them() {
    // PLIVO.md §3.4: a bare content type and a numeric rate in playAudio.
    let play = encode(&Outbound::PlayAudio { format: AudioFormat::Linear16000, audio: vec![1, 0] });
    let v: Value = serde_json::from_str(&play).unwrap();
    assert_eq!(v, json!({ "event": "playAudio", "media": { "contentType": "audio/x-l16", "sampleRate": 16000, "payload": "AQA=" } }));
    let v: Value = serde_json::from_str(&encode(&Outbound::Checkpoint { stream_id: "s1".into(), name: "utt-3".into() })).unwrap();
    assert_eq!(v, json!({ "event": "checkpoint", "streamId": "s1", "name": "utt-3" }));
    let v: Value = serde_json::from_str(&encode(&Outbound::ClearAudio { stream_id: "s1".into() })).unwrap();
    assert_eq!(v, json!({ "event": "clearAudio", "streamId": "s1" }));
    // Plivo's side reads a string rate too, and refuses what no stream could play.
    let string_rate = r#"{"event":"playAudio","media":{"contentType":"audio/x-mulaw","sampleRate":"8000","payload":"/w=="}}"#;
    assert_eq!(decode_outbound(string_rate).unwrap(), Outbound::PlayAudio { format: AudioFormat::Mulaw8000, audio: vec![0xFF] });
    let with_rate = r#"{"event":"playAudio","media":{"contentType":"audio/x-mulaw;rate=8000","sampleRate":8000,"payload":""}}"#;
    assert_eq!(decode_outbound(with_rate), Err(MediaError::UnknownFormat));
    assert_eq!(decode_outbound(r#"{"event":"clearAudio"}"#), Err(MediaError::Missing { event: "clearAudio", field: "streamId" }));
    assert_eq!(decode_outbound(r#"{"event":"media"}"#), Err(MediaError::UnknownEvent("media".into())));
}

fn inbound() -> impl Strategy<Value = Inbound> {
    let format = prop_oneof![Just(AudioFormat::Mulaw8000), Just(AudioFormat::Linear8000), Just(AudioFormat::Linear16000)];
    prop_oneof![
        Just(Inbound::Cleared),
        proptest::option::of("[ -~]{1,20}").prop_map(|reason| Inbound::Stop { reason }),
        ("[a-f0-9-]{1,36}", "[a-f0-9-]{1,36}", format, proptest::option::of("[a-zA-Z0-9=;,]{0,40}")).prop_map(
            |(call, stream, f, extra_headers)| Inbound::Start(Start {
                call_id: call,
                stream_id: stream,
                account_id: "MA0123456789ABCDEFGH".into(),
                tracks: vec!["inbound".into()],
                encoding: Some(f.encoding().into()),
                sample_rate: Some(f.rate()),
                extra_headers,
            })
        ),
        (any::<u32>(), any::<u64>(), proptest::collection::vec(any::<u8>(), 0..640)).prop_map(|(c, t, audio)| Inbound::Media {
            chunk: Some(u64::from(c)),
            timestamp_ms: Some(t),
            audio
        }),
        "[0-9*#A-D]".prop_map(|digit| Inbound::Dtmf { digit }),
        "[ -~]{1,20}".prop_map(|name| Inbound::Played { name }),
    ]
}

proptest! {
    #[test]
    fn plivos_messages_round_trip(m in inbound(), seq in 1u64..1_000_000) {
        prop_assert_eq!(decode(&encode_inbound(seq, &m)).unwrap(), m);
    }

    #[test]
    fn our_messages_round_trip(audio in proptest::collection::vec(any::<u8>(), 0..2000), name in "[ -~]{1,30}", i in 0usize..3) {
        let format = AudioFormat::ALL[i];
        for m in [
            Outbound::PlayAudio { format, audio: audio.clone() },
            Outbound::Checkpoint { stream_id: "s1".into(), name: name.clone() },
            Outbound::ClearAudio { stream_id: "s1".into() },
        ] {
            prop_assert_eq!(decode_outbound(&encode(&m)).unwrap(), m);
        }
    }

    #[test]
    fn samples_round_trip_through_linear_payloads(samples in proptest::collection::vec(any::<i16>(), 0..400)) {
        for f in [AudioFormat::Linear8000, AudioFormat::Linear16000] {
            prop_assert_eq!(f.to_samples(&f.to_bytes(&samples)).unwrap(), samples.clone());
        }
    }

    #[test]
    fn any_text_is_read_or_refused_never_a_panic(s in "\\PC{0,200}") {
        let _ = decode(&s);
        let _ = decode_outbound(&s);
        let _ = extra_headers(&s);
    }
}
