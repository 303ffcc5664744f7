//! Property tests (proptest) for the Exotel parameter parser and the XML answer builder:
//! arbitrary input never panics, and whatever the builder writes parses back unchanged.

use proptest::prelude::*;
use quick_xml::Reader;
use quick_xml::events::Event;
use server::telephony::exotel::answer::{Answer, to_xml};
use server::telephony::exotel::params::CallParams;

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
