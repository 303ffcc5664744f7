//! Property tests (proptest) for the Exotel parameter parser, the XML answer builder and the
//! Voicebot stream codec: arbitrary input never panics, and whatever one side writes the
//! other reads back unchanged.

use proptest::prelude::*;
use quick_xml::Reader;
use quick_xml::events::Event;
use server::telephony::exotel::answer::{Answer, to_xml};
use server::telephony::exotel::stream::{self, CodecError, Inbound, Outbound, Start};
use server::telephony::params::CallParams;

/// Text and attribute values of every element, in document order.
fn texts_and_attrs(xml: &str) -> Result<Vec<String>, String> {
    let mut r = Reader::from_str(xml);
    let mut out = Vec::new();
    let mut text = String::new();
    loop {
        match r.read_event().map_err(|e| e.to_string())? {
            Event::Start(e) | Event::Empty(e) => {
                for a in e.attributes() {
                    let a = a.map_err(|e| e.to_string())?;
                    out.push(a.unescape_value().map_err(|e| e.to_string())?.into_owned());
                }
            }
            Event::Text(t) => text.push_str(&t.decode().map_err(|e| e.to_string())?),
            Event::GeneralRef(g) => {
                let name = g.decode().map_err(|e| e.to_string())?;
                text.push_str(quick_xml::escape::resolve_predefined_entity(&name).ok_or("unknown entity")?);
            }
            Event::End(_) if !text.is_empty() => out.push(std::mem::take(&mut text)),
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

fn xml_safe() -> impl Strategy<Value = String> {
    // XML 1.0 cannot carry most control characters at all; everything else must survive.
    "[^\u{0}-\u{8}\u{b}\u{c}\u{e}-\u{1f}\u{fffe}\u{ffff}\r]{0,40}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parser_never_panics_on_any_bytes(query in ".{0,200}", ct in prop::option::of("(application/json|application/x-www-form-urlencoded|text/plain)"), body in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = CallParams::parse(&query, ct.as_deref(), &body);
    }

    #[test]
    fn parser_keeps_every_form_field(sid in "[A-Za-z0-9_-]{1,64}", key in "[A-Za-z][A-Za-z0-9\\[\\]]{0,20}", value in ".{0,50}") {
        let body: String = form_urlencoded::Serializer::new(String::new()).append_pair("CallSid", &sid).append_pair(&key, &value).finish();
        let p = CallParams::parse("", Some("application/x-www-form-urlencoded"), body.as_bytes()).unwrap();
        prop_assert_eq!(&p.call_sid, &sid);
        if key != "CallSid" {
            prop_assert_eq!(p.raw.get(&key), Some(&value));
        }
    }

    #[test]
    fn answers_round_trip_whatever_the_text(greeting in xml_safe(), url in xml_safe(), name in xml_safe(), value in xml_safe()) {
        let xml = to_xml(&Answer::Stream { greeting: &greeting, language: "en", url: &url, parameters: &[(&name, &value)] });
        let got = texts_and_attrs(&xml).map_err(|e| TestCaseError::fail(format!("{e}: {xml}")))?;
        // An empty greeting writes no <Say> at all.
        let mut want = Vec::new();
        if !greeting.is_empty() {
            want.extend(["en-IN".to_string(), greeting.clone()]);
        }
        want.extend([url.clone(), name.clone(), value.clone()]);
        prop_assert_eq!(got, want);
    }
}

/// Any frame Exotel can send.
fn inbound() -> impl Strategy<Value = Inbound> {
    let text = || ".{0,24}";
    let opt = || prop::option::of(".{0,24}");
    let start = (
        (text(), "[A-Za-z0-9]{1,32}", opt(), opt(), opt()),
        prop::collection::btree_map("[a-z_]{1,10}", text(), 0..4),
        (opt(), prop::option::of(prop::sample::select(stream::RATES.to_vec()))),
    )
        .prop_map(|((stream_sid, call_sid, account_sid, from, to), custom_parameters, (encoding, sample_rate))| {
            Inbound::Start(Start { stream_sid, call_sid, account_sid, from, to, custom_parameters, encoding, sample_rate })
        });
    prop_oneof![
        Just(Inbound::Connected),
        start,
        (prop::option::of(any::<u64>()), prop::option::of(any::<u64>()), prop::collection::vec(any::<u8>(), 0..200)).prop_map(
            |(chunk, timestamp_ms, mut pcm)| {
                pcm.truncate(pcm.len() / 2 * 2);
                Inbound::Media { chunk, timestamp_ms, pcm }
            }
        ),
        ("[0-9*#]", prop::option::of(0u64..10_000)).prop_map(|(digit, duration_ms)| Inbound::Dtmf { digit, duration_ms }),
        text().prop_map(|name| Inbound::Mark { name }),
        opt().prop_map(|reason| Inbound::Stop { reason }),
    ]
}

fn outbound() -> impl Strategy<Value = Outbound> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..400).prop_map(|mut pcm| {
            pcm.truncate(pcm.len() / 2 * 2);
            Outbound::Media { pcm }
        }),
        ".{0,24}".prop_map(|name| Outbound::Mark { name }),
        Just(Outbound::Clear),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn stream_decoding_never_panics_on_any_text(frame in ".{0,300}") {
        let _ = stream::decode(&frame);
        let _ = stream::decode_outbound(&frame);
    }

    #[test]
    fn stream_decoding_never_panics_on_json_shaped_frames(
        event in prop::sample::select(vec!["connected", "start", "media", "dtmf", "mark", "stop", "clear", "other"]),
        key in prop::sample::select(vec!["start", "media", "dtmf", "mark", "stop"]),
        field in "[a-z_A-Z]{1,12}",
        value in prop_oneof![Just(serde_json::json!(null)), any::<i64>().prop_map(serde_json::Value::from), ".{0,20}".prop_map(serde_json::Value::from), Just(serde_json::json!([1, "x"]))],
    ) {
        let mut body = serde_json::Map::new();
        for k in [field.as_str(), "payload", "call_sid"] {
            body.insert(k.to_string(), value.clone());
        }
        let mut top = serde_json::Map::new();
        top.insert("event".into(), event.into());
        top.insert(key.into(), body.into());
        let frame = serde_json::Value::Object(top).to_string();
        match stream::decode(&frame) {
            Ok(_) | Err(CodecError::Missing { .. } | CodecError::BadBase64 | CodecError::OddPcm | CodecError::UnknownEvent(_)) => {}
            Err(e) => prop_assert!(false, "a JSON frame with an event gave {e:?}: {frame}"),
        }
    }

    #[test]
    fn exotel_frames_round_trip(frame in inbound(), sid in "[A-Za-z0-9]{0,20}", seq in any::<u64>()) {
        let text = stream::encode_inbound(&sid, seq, &frame);
        prop_assert_eq!(stream::decode(&text), Ok(frame));
    }

    #[test]
    fn our_frames_round_trip(frame in outbound(), sid in "[A-Za-z0-9]{0,20}") {
        let text = stream::encode(&sid, &frame);
        prop_assert_eq!(stream::decode_outbound(&text), Ok(frame));
    }
}
