//! The XML answer built from tenant-chosen text (greeting, language, parameters): always
//! well-formed XML that carries the text unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quick_xml::Reader;
use quick_xml::events::Event;
use server::telephony::exotel::answer::{Answer, to_xml};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut parts = text.splitn(3, '\u{1}');
    let (greeting, value, language) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or("en"));
    let parameters = [("session_id", value)];
    let xml = to_xml(&Answer::Stream { greeting, language, url: "wss://example.com/ws?key=k&x=1", parameters: &parameters });
    let mut reader = Reader::from_str(&xml);
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(Event::Start(e) | Event::Empty(e)) => {
                for a in e.attributes() {
                    a.expect("well-formed attribute").unescape_value().expect("escaped value");
                }
            }
            Ok(_) => {}
            Err(e) => panic!("our XML does not parse: {e}\n{xml}"),
        }
    }
});
