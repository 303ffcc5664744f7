//! Call transfers in the cloud: the call-update requests that hand a call the cloud placed to a
//! person, as Twilio (`POST …/Calls/{sid}.json` with `Twiml`), Vonage (`PUT /v1/calls/{uuid}`
//! `action: transfer` with an NCCO) and Plivo (`POST …/Call/{uuid}/` with `aleg_url`) take
//! them, with their auth and their 404 for a call they do not know. The person "answers": the
//! cloud fetches what a warm transfer plays them (Twilio's `<Number url>`, Vonage's `onAnswer`,
//! Plivo's `aleg_url` then its `confirmSound`), signed like every callback, and records it.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use domain::phone_number::Provider;
use serde_json::{Value, json};

use super::{Cloud, CloudAccount, Params, basic_auth, reply};
use crate::simulator::{plivo as plivo_sim, vonage as vonage_sim};
use crate::telephony::twilio::signature as twilio_sig;

/// The most transfers the cloud keeps.
const MAX_TRANSFERS: usize = 10_000;

/// One call the cloud handed to a person.
#[derive(Debug, Clone, PartialEq)]
pub struct Transfer {
    pub provider: Provider,
    /// The transferred call's id (as the cloud placed it).
    pub call_id: String,
    /// The person's number, as `+` and digits.
    pub to: String,
    /// What the person heard before being connected (warm transfers), as text.
    pub heard: Option<String>,
}

impl Cloud {
    /// Every transfer so far, oldest first.
    pub fn transfers(&self) -> Vec<Transfer> {
        self.lock().transfers.clone()
    }

    fn transferred(&self, t: Transfer) {
        let mut inner = self.lock();
        if inner.transfers.len() >= MAX_TRANSFERS {
            inner.transfers.remove(0);
        }
        inner.transfers.push(t);
    }

    /// Whether `provider` placed call `call_id`.
    fn placed(&self, provider: Provider, call_id: &str) -> bool {
        self.dials().iter().any(|d| d.provider == provider && d.call_id == call_id)
    }
}

/// The call-update routes.
pub(super) fn routes() -> Router<Cloud> {
    Router::new()
        .route("/2010-04-01/Accounts/{sid}/Calls/{call}", post(twilio))
        .route("/v1/calls/{uuid}", put(vonage))
        .route("/v1/Account/{auth_id}/Call/{uuid}/", post(plivo))
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(std::time::Duration::from_secs(5)).build().unwrap_or_default()
}

/// The text of every `tag` element of an XML document, in order.
fn texts(xml: &str, tag: &str) -> Vec<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let (mut out, mut inside) = (Vec::new(), false);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) if e.name().as_ref() == tag.as_bytes() => {
                inside = true;
                out.push(String::new());
            }
            Ok(Event::End(e)) if e.name().as_ref() == tag.as_bytes() => inside = false,
            Ok(Event::Text(t)) if inside => {
                if let (Some(last), Ok(text)) = (out.last_mut(), t.decode()) {
                    last.push_str(&text);
                }
            }
            Ok(Event::GeneralRef(r)) if inside => {
                let resolved = r.decode().ok().and_then(|n| quick_xml::escape::resolve_predefined_entity(&n).map(str::to_string));
                if let (Some(last), Some(text)) = (out.last_mut(), resolved) {
                    last.push_str(&text);
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    out
}

/// An attribute of the first `tag` element.
fn attribute(xml: &str, tag: &str, name: &str) -> Option<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) if e.name().as_ref() == tag.as_bytes() => {
                return e
                    .attributes()
                    .flatten()
                    .find(|a| a.key.as_ref() == name.as_bytes())
                    .and_then(|a| a.unescape_value().ok())
                    .map(|v| v.into_owned());
            }
            Ok(Event::Eof) | Err(_) => return None,
            _ => {}
        }
    }
}

fn plus(number: &str) -> String {
    format!("+{}", number.chars().filter(char::is_ascii_digit).collect::<String>())
}

/// Twilio: `Twiml` with `<Dial><Number url?>to</Number></Dial>`; the whisper TwiML's `<Say>`.
async fn twilio(State(cloud): State<Cloud>, Path((sid, call)): Path<(String, String)>, headers: HeaderMap, body: Bytes) -> Response {
    let twilio_error = |status: StatusCode, code: u32, message: &str| {
        reply(status, json!({ "code": code, "message": message, "status": status.as_u16() }))
    };
    let Some(account) = basic_auth(&headers).and_then(|(u, p)| cloud.account(Provider::Twilio, Some(&sid), &u, &p)) else {
        return twilio_error(StatusCode::UNAUTHORIZED, 20003, "Authenticate");
    };
    let Some(call) = call.strip_suffix(".json").filter(|c| cloud.placed(Provider::Twilio, c)) else {
        return twilio_error(StatusCode::NOT_FOUND, 20404, "The requested resource was not found");
    };
    let params = Params::form(&body);
    let Some(twiml) = params.get(&["Twiml"]) else {
        return twilio_error(StatusCode::BAD_REQUEST, 21220, "Invalid call state: no Twiml or Url");
    };
    let Some(to) = texts(twiml, "Number").into_iter().next().filter(|n| !n.is_empty()) else {
        return twilio_error(StatusCode::BAD_REQUEST, 12100, "Document parse failure: no <Dial><Number>");
    };
    let heard = match attribute(twiml, "Number", "url") {
        Some(url) => {
            let form = vec![
                ("AccountSid".to_string(), account.id.clone()),
                ("CallSid".to_string(), super::calls::hex_id()),
                ("To".to_string(), to.clone()),
            ];
            let sig = twilio_sig::signature(&account.secret, &url, &form);
            let answer = client().post(&url).header(twilio_sig::HEADER, sig).form(&form).send().await;
            match answer {
                Ok(r) if r.status().is_success() => Some(texts(&r.text().await.unwrap_or_default(), "Say").join(" ")),
                _ => Some(String::new()),
            }
        }
        None => None,
    };
    cloud.transferred(Transfer { provider: Provider::Twilio, call_id: call.to_string(), to: plus(&to), heard });
    reply(StatusCode::OK, json!({ "sid": call, "status": "in-progress" }))
}

/// Vonage: `{"action":"transfer","destination":{"type":"ncco","ncco":[connect…]}}`; the
/// `onAnswer` NCCO's `talk`.
async fn vonage(State(cloud): State<Cloud>, Path(uuid): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let problem =
        |status: StatusCode, title: &str| reply(status, json!({ "type": "https://developer.nexmo.com/api-errors", "title": title }));
    let Some(account) = super::vonage_calls::authorise(&cloud, &headers) else {
        return problem(StatusCode::UNAUTHORIZED, "Unauthorized");
    };
    if !cloud.placed(Provider::Vonage, &uuid) {
        return problem(StatusCode::NOT_FOUND, "Not Found");
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else { return problem(StatusCode::BAD_REQUEST, "Invalid JSON") };
    let endpoint = &body["destination"]["ncco"][0]["endpoint"][0];
    let (Some("transfer"), Some(number)) = (body["action"].as_str(), endpoint["number"].as_str()) else {
        return problem(StatusCode::BAD_REQUEST, "Bad Request");
    };
    let heard = match endpoint["onAnswer"]["url"].as_str() {
        Some(url) => Some(vonage_whisper(&account, url).await),
        None => None,
    };
    cloud.transferred(Transfer { provider: Provider::Vonage, call_id: uuid, to: plus(number), heard });
    StatusCode::NO_CONTENT.into_response()
}

/// Fetches a Vonage `onAnswer` NCCO (a signed GET, like the answer URL) and reads its `talk`s.
async fn vonage_whisper(account: &CloudAccount, url: &str) -> String {
    let mut request = client().get(url);
    if let (Some(secret), Some(app)) = (&account.signature_secret, &account.application_id) {
        let app = vonage_sim::App { api_key: &account.key, secret, application_id: app };
        request = request.header("Authorization", vonage_sim::bearer(&app, b""));
    }
    let query = [("uuid", super::uuid()), ("conversation_uuid", format!("CON-{}", super::uuid()))];
    let ncco: Value = match request.query(&query).send().await {
        Ok(r) if r.status().is_success() => r.json().await.unwrap_or_default(),
        _ => return String::new(),
    };
    let talks = ncco.as_array().into_iter().flatten().filter(|a| a["action"] == "talk").filter_map(|a| a["text"].as_str());
    talks.collect::<Vec<_>>().join(" ")
}

/// Plivo: `legs=aleg` and `aleg_url`, whose XML dials the person; its `confirmSound`'s
/// `<Speak>` is what they hear.
async fn plivo(State(cloud): State<Cloud>, Path((auth_id, uuid)): Path<(String, String)>, headers: HeaderMap, body: Bytes) -> Response {
    let error = |status: StatusCode, message: &str| reply(status, json!({ "api_id": super::uuid(), "error": message }));
    let Some(account) = basic_auth(&headers).and_then(|(u, p)| cloud.account(Provider::Plivo, Some(&auth_id), &u, &p)) else {
        return error(StatusCode::UNAUTHORIZED, "authentication failed");
    };
    if !cloud.placed(Provider::Plivo, &uuid) {
        return error(StatusCode::NOT_FOUND, "call not found");
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or_default();
    let (Some("aleg"), Some(url)) = (body["legs"].as_str(), body["aleg_url"].as_str()) else {
        return error(StatusCode::BAD_REQUEST, "legs and aleg_url are required");
    };
    let signed_post = |url: String, form: Vec<(String, String)>| {
        let headers = plivo_sim::signed_headers(&account.secret, &url, &form);
        let mut request = client().post(&url).form(&form);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        async move {
            match request.send().await {
                Ok(r) if r.status().is_success() => r.text().await.ok(),
                _ => None,
            }
        }
    };
    let call_form = |uuid: &str| vec![("CallUUID".to_string(), uuid.to_string()), ("CallStatus".to_string(), "in-progress".to_string())];
    let Some(xml) = signed_post(url.to_string(), call_form(&uuid)).await else {
        return error(StatusCode::BAD_REQUEST, "the aleg_url could not be fetched");
    };
    let Some(to) = texts(&xml, "Number").into_iter().next().filter(|n| !n.is_empty()) else {
        return error(StatusCode::BAD_REQUEST, "the aleg_url answered no <Dial><Number>");
    };
    let heard = match attribute(&xml, "Dial", "confirmSound") {
        Some(sound) => Some(signed_post(sound, call_form(&super::uuid())).await.map(|x| texts(&x, "Speak").join(" ")).unwrap_or_default()),
        None => None,
    };
    cloud.transferred(Transfer { provider: Provider::Plivo, call_id: uuid, to: plus(&to), heard });
    reply(StatusCode::ACCEPTED, json!({ "api_id": super::uuid(), "message": "call transferred" }))
}
