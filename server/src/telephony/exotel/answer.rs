//! XML answers ("ExoML"/TwiML shape) built with quick-xml's writer, so text and attributes
//! are always escaped, and the JSON answer of the Voicebot applet's dynamic URL.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

/// The `language` attribute for an agent language.
pub fn say_language(language: &str) -> &'static str {
    match language {
        "hi" => "hi-IN",
        _ => "en-IN",
    }
}

/// What the answer tells the provider to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer<'a> {
    /// Speak the greeting, then connect the bidirectional stream with these parameters.
    Stream { greeting: &'a str, language: &'a str, url: &'a str, parameters: &'a [(&'a str, &'a str)] },
    /// Speak a message and hang up (inactive number).
    SayAndHangUp { message: &'a str, language: &'a str },
}

type W = Writer<Vec<u8>>;

fn write(w: &mut W, e: Event<'_>) {
    // Writing into a Vec cannot fail.
    let _ = w.write_event(e);
}

fn say(w: &mut W, text: &str, language: &str) {
    let mut start = BytesStart::new("Say");
    start.push_attribute(("language", say_language(language)));
    write(w, Event::Start(start));
    write(w, Event::Text(BytesText::new(text)));
    write(w, Event::End(BytesEnd::new("Say")));
}

/// Renders an answer as an XML document.
pub fn to_xml(answer: &Answer<'_>) -> String {
    let mut w = Writer::new(Vec::new());
    write(&mut w, Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
    write(&mut w, Event::Start(BytesStart::new("Response")));
    match answer {
        Answer::Stream { greeting, language, url, parameters } => {
            if !greeting.is_empty() {
                say(&mut w, greeting, language);
            }
            write(&mut w, Event::Start(BytesStart::new("Connect")));
            let mut stream = BytesStart::new("Stream");
            stream.push_attribute(("url", *url));
            write(&mut w, Event::Start(stream));
            for (name, value) in *parameters {
                let mut p = BytesStart::new("Parameter");
                p.push_attribute(("name", *name));
                p.push_attribute(("value", *value));
                write(&mut w, Event::Empty(p));
            }
            write(&mut w, Event::End(BytesEnd::new("Stream")));
            write(&mut w, Event::End(BytesEnd::new("Connect")));
        }
        Answer::SayAndHangUp { message, language } => {
            say(&mut w, message, language);
            write(&mut w, Event::Empty(BytesStart::new("Hangup")));
        }
    }
    write(&mut w, Event::End(BytesEnd::new("Response")));
    String::from_utf8(w.into_inner()).unwrap_or_default()
}

/// The polite message for a number that is not in service.
pub fn not_in_service(language: &str) -> &'static str {
    match language {
        "hi" => "क्षमा करें, यह नंबर अभी सेवा में नहीं है। धन्यवाद।",
        _ => "Sorry, this number is not in service right now. Goodbye.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quick_xml::Reader;

    /// An element read back: its name, attributes and text.
    type Element = (String, Vec<(String, String)>, String);

    /// Parses the document back, element by element in order.
    fn read_back(xml: &str) -> Vec<Element> {
        let mut r = Reader::from_str(xml);
        let mut out = Vec::new();
        loop {
            match r.read_event().unwrap() {
                Event::Start(e) | Event::Empty(e) => {
                    let attrs = e
                        .attributes()
                        .map(|a| {
                            let a = a.unwrap();
                            (String::from_utf8(a.key.as_ref().to_vec()).unwrap(), a.unescape_value().unwrap().into_owned())
                        })
                        .collect();
                    out.push((String::from_utf8(e.name().as_ref().to_vec()).unwrap(), attrs, String::new()));
                }
                Event::Text(t) => {
                    if let Some(last) = out.last_mut() {
                        last.2.push_str(&t.decode().unwrap());
                    }
                }
                // quick-xml reports entity references (`&amp;`) as separate events.
                Event::GeneralRef(r) => {
                    let name = r.decode().unwrap();
                    let resolved = quick_xml::escape::resolve_predefined_entity(&name).unwrap().to_string();
                    if let Some(last) = out.last_mut() {
                        last.2.push_str(&resolved);
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        out
    }

    #[test]
    fn stream_answer_escapes_and_round_trips() {
        let greeting = "Hi <caller> & \"friends\"";
        let url = "wss://v.example.com/api/telephony/ws/n1?key=a&sample-rate=8000";
        let xml = to_xml(&Answer::Stream { greeting, language: "en", url, parameters: &[("session_id", "CA1\"<"), ("agent_id", "ag1")] });
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Say language=\"en-IN\">"), "{xml}");
        assert!(!xml.contains("<caller>"));
        let parts = read_back(&xml);
        let names: Vec<&str> = parts.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(names, ["Response", "Say", "Connect", "Stream", "Parameter", "Parameter"]);
        assert_eq!(parts[1].2, greeting);
        assert_eq!(parts[3].1, vec![("url".to_string(), url.to_string())]);
        assert_eq!(parts[4].1[1].1, "CA1\"<");
    }

    #[test]
    fn inactive_numbers_say_sorry_and_hang_up_in_the_agents_language() {
        let xml = to_xml(&Answer::SayAndHangUp { message: not_in_service("hi"), language: "hi" });
        let parts = read_back(&xml);
        assert_eq!(parts[1].1[0].1, "hi-IN");
        assert!(parts[1].2.contains("सेवा"));
        assert_eq!(parts[2].0, "Hangup");
    }
}
