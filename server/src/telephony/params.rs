//! Call parameters from query strings, form bodies and JSON bodies, read leniently (the names
//! providers use: `CallSid`, `CallUUID`, `uuid`, `From`, `from`, `To`, …; shared/protocols/). The call
//! intake takes this neutral shape from every provider.

use std::collections::BTreeMap;

/// What a webhook or applet request told us about the call. Unknown fields are kept in `raw`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CallParams {
    pub call_sid: String,
    /// Caller (`From`, or the Connect applet's `CallFrom`).
    pub from: Option<String>,
    /// Our number (`To`, or `CallTo`).
    pub to: Option<String>,
    pub direction: Option<String>,
    pub call_status: Option<String>,
    /// DTMF from a preceding Gather applet; Exotel wraps it in double quotes, removed here.
    pub digits: Option<String>,
    pub custom_field: Option<String>,
    /// Every parameter as received (query first, then body; later values win).
    pub raw: BTreeMap<String, String>,
}

/// Why a request's parameters could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParamError {
    #[error("CallSid is missing")]
    MissingCallSid,
    #[error("CallSid {0:?} is not a call id (letters, digits, - and _; at most 64)")]
    BadCallSid(String),
    #[error("body is not valid {0}")]
    MalformedBody(&'static str),
}

/// Longest body or query we read, in bytes.
pub const MAX_INPUT: usize = 64 * 1024;

fn json_to_string(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Reads every parameter of a request: the query string, then a form or JSON body.
pub fn collect(query: &str, content_type: Option<&str>, body: &[u8]) -> Result<BTreeMap<String, String>, ParamError> {
    let mut raw = BTreeMap::new();
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        raw.insert(k.into_owned(), v.into_owned());
    }
    let body_text = std::str::from_utf8(body).map_err(|_| ParamError::MalformedBody("UTF-8"))?;
    if body_text.trim().is_empty() {
        return Ok(raw);
    }
    let is_json = content_type.is_some_and(|c| c.contains("json")) || body_text.trim_start().starts_with('{');
    if is_json {
        let value: serde_json::Value = serde_json::from_str(body_text).map_err(|_| ParamError::MalformedBody("JSON"))?;
        let obj = value.as_object().ok_or(ParamError::MalformedBody("JSON object"))?;
        for (k, v) in obj {
            raw.insert(k.clone(), json_to_string(v));
        }
    } else {
        for (k, v) in form_urlencoded::parse(body_text.as_bytes()) {
            raw.insert(k.into_owned(), v.into_owned());
        }
    }
    Ok(raw)
}

/// A number as Vonage and Plivo write it (international digits without `+`, `447700900000`)
/// in E.164 form; anything else (a `0`-prefixed Exotel number, a SIP URI) as it came.
pub fn plus_digits(number: &str) -> String {
    if (8..=15).contains(&number.len()) && !number.starts_with('0') && number.chars().all(|c| c.is_ascii_digit()) {
        format!("+{number}")
    } else {
        number.to_string()
    }
}

/// Whether `id` can be a call id: letters, digits, `-` and `_`, at most 64.
pub fn id_ok(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl CallParams {
    /// Our id of an outbound call, when the request names one (crate::telephony::dial) and it
    /// can be an id.
    pub fn dial_id(&self) -> Option<&str> {
        self.raw.get(super::dial::DIAL_PARAMETER).map(String::as_str).filter(|d| id_ok(d))
    }

    /// Parses a request; `CallSid` is required.
    pub fn parse(query: &str, content_type: Option<&str>, body: &[u8]) -> Result<Self, ParamError> {
        Self::from_raw(collect(query, content_type, body)?)
    }

    /// Picks the known fields out of collected parameters.
    pub fn from_raw(raw: BTreeMap<String, String>) -> Result<Self, ParamError> {
        let get = |names: &[&str]| names.iter().find_map(|n| raw.get(*n)).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let call_sid = get(&["CallSid", "call_sid", "callSid", "CallUUID", "uuid"]).ok_or(ParamError::MissingCallSid)?;
        if !id_ok(&call_sid) {
            return Err(ParamError::BadCallSid(call_sid.chars().take(80).collect()));
        }
        Ok(Self {
            from: get(&["From", "CallFrom", "from"]).map(|n| plus_digits(&n)),
            to: get(&["To", "CallTo", "to"]).map(|n| plus_digits(&n)),
            direction: get(&["Direction", "direction"]),
            call_status: get(&["CallStatus", "status"]),
            digits: get(&["digits", "Digits"]).map(|d| d.trim_matches('"').to_string()).filter(|d| !d.is_empty()),
            custom_field: get(&["CustomField"]),
            call_sid,
            raw,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vonage_and_plivo_spellings_and_plus_less_numbers() {
        let vonage = CallParams::parse("uuid=aaaa-1&from=447700900100&to=442079460958&status=answered", None, b"").unwrap();
        assert_eq!((vonage.call_sid.as_str(), vonage.call_status.as_deref()), ("aaaa-1", Some("answered")));
        assert_eq!((vonage.from.as_deref(), vonage.to.as_deref()), (Some("+447700900100"), Some("+442079460958")));
        let plivo = CallParams::parse("", None, b"CallUUID=e2a1-0001&From=14155550100&To=sip%3Abot%40example.com").unwrap();
        assert_eq!((plivo.call_sid.as_str(), plivo.from.as_deref()), ("e2a1-0001", Some("+14155550100")));
        assert_eq!(plivo.to.as_deref(), Some("sip:bot@example.com"), "a SIP URI is kept as it came");
        // Exotel's 0-prefixed national numbers and short codes stay as they are.
        assert_eq!(plus_digits("09876543210"), "09876543210");
        assert_eq!(plus_digits("1234"), "1234");
        assert_eq!(plus_digits("+14155550100"), "+14155550100");
    }

    #[test]
    fn passthru_example_from_the_docs() {
        // SUP-PT 3000132269's example request, as a query string.
        let q = "CallSid=56b1aa78&Direction=inbound&From=%2B918888000000&To=%2B912233344455&Stream%5BStreamSID%5D=6f0447&Stream%5BStatus%5D=completed&Stream%5BDuration%5D=28&Stream%5BDisconnectedBy%5D=bot";
        let p = CallParams::parse(q, None, b"").unwrap();
        assert_eq!(p.call_sid, "56b1aa78");
        assert_eq!(p.from.as_deref(), Some("+918888000000"));
        assert_eq!(p.to.as_deref(), Some("+912233344455"));
        assert_eq!(p.direction.as_deref(), Some("inbound"));
        assert_eq!(p.raw["Stream[Status]"], "completed");
        assert_eq!(p.raw["Stream[DisconnectedBy]"], "bot");
    }

    #[test]
    fn connect_applet_spelling_and_quoted_digits() {
        let p = CallParams::parse("CallSid=abc&CallFrom=09876543210&CallTo=08047491899&digits=%2212%22", None, b"").unwrap();
        assert_eq!(p.from.as_deref(), Some("09876543210"));
        assert_eq!(p.to.as_deref(), Some("08047491899"));
        assert_eq!(p.digits.as_deref(), Some("12"));
    }

    #[test]
    fn form_and_json_bodies_merge_over_the_query() {
        let form =
            CallParams::parse("CallSid=q1&Extra=x", Some("application/x-www-form-urlencoded"), b"From=%2B911&CustomField=order-7").unwrap();
        assert_eq!((form.call_sid.as_str(), form.from.as_deref(), form.custom_field.as_deref()), ("q1", Some("+911"), Some("order-7")));
        assert_eq!(form.raw["Extra"], "x");
        let json = CallParams::parse("", Some("application/json"), br#"{"CallSid":"j1","DialCallDuration":0,"Legs":[1]}"#).unwrap();
        assert_eq!(json.call_sid, "j1");
        assert_eq!(json.raw["DialCallDuration"], "0");
        assert_eq!(json.raw["Legs"], "[1]");
    }

    #[test]
    fn bad_requests_are_typed_errors() {
        assert_eq!(CallParams::parse("From=1", None, b""), Err(ParamError::MissingCallSid));
        assert_eq!(CallParams::parse("", Some("application/json"), b"{not json"), Err(ParamError::MalformedBody("JSON")));
        assert_eq!(CallParams::parse("", Some("application/json"), b"[1,2]"), Err(ParamError::MalformedBody("JSON object")));
        assert!(matches!(CallParams::parse("CallSid=a%20b%3Cc", None, b""), Err(ParamError::BadCallSid(_))));
        assert_eq!(CallParams::parse("", None, &[0xff, 0xfe]), Err(ParamError::MalformedBody("UTF-8")));
    }
}
