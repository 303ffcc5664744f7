//! XML answers (TwiML and Exotel's TwiML-shaped ExoML; Plivo's XML later), written with
//! quick-xml so text and attributes are always escaped, never concatenated.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

/// A `<Response>` document being written.
pub struct Response(Writer<Vec<u8>>);

impl Response {
    /// The declaration and the opening `<Response>`.
    pub fn new() -> Self {
        let mut r = Self(Writer::new(Vec::new()));
        r.write(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
        r.write(Event::Start(BytesStart::new("Response")));
        r
    }

    fn write(&mut self, e: Event<'_>) {
        // Writing into a Vec cannot fail.
        let _ = self.0.write_event(e);
    }

    fn start<'a>(name: &'a str, attributes: &[(&'a str, &'a str)]) -> BytesStart<'a> {
        let mut e = BytesStart::new(name);
        for &a in attributes {
            e.push_attribute(a);
        }
        e
    }

    /// Opens `<name attributes…>`.
    pub fn open(&mut self, name: &str, attributes: &[(&str, &str)]) -> &mut Self {
        self.write(Event::Start(Self::start(name, attributes)));
        self
    }

    /// Closes `</name>`.
    pub fn close(&mut self, name: &str) -> &mut Self {
        self.write(Event::End(BytesEnd::new(name)));
        self
    }

    /// `<name attributes…/>`.
    pub fn empty(&mut self, name: &str, attributes: &[(&str, &str)]) -> &mut Self {
        self.write(Event::Empty(Self::start(name, attributes)));
        self
    }

    /// `<name attributes…>text</name>`.
    pub fn element(&mut self, name: &str, attributes: &[(&str, &str)], text: &str) -> &mut Self {
        self.open(name, attributes);
        self.write(Event::Text(BytesText::new(text)));
        self.close(name)
    }

    /// Closes `</Response>` and returns the document.
    pub fn finish(mut self) -> String {
        self.close("Response");
        String::from_utf8(self.0.into_inner()).unwrap_or_default()
    }
}

impl Default for Response {
    fn default() -> Self {
        Self::new()
    }
}

/// The polite message for a number that is not in service.
pub fn not_in_service(language: &str) -> &'static str {
    match language {
        "hi" => "क्षमा करें, यह नंबर अभी सेवा में नहीं है। धन्यवाद।",
        _ => "Sorry, this number is not in service right now. Goodbye.",
    }
}

/// An element read back: its name, attributes and text.
#[cfg(test)]
pub type Element = (String, Vec<(String, String)>, String);

/// Parses a document back, element by element in order (for tests).
#[cfg(test)]
pub fn read_back(xml: &str) -> Vec<Element> {
    use quick_xml::Reader;
    let mut r = Reader::from_str(xml);
    let mut out: Vec<Element> = Vec::new();
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
