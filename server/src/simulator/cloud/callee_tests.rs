//! The callee and the providers' callbacks, against a tiny stand-in for our server that records
//! every request, answers the answer URL with a stream on its own WebSocket (which takes the
//! stream's first messages and closes), and checks each callback's fields and signature with
//! the server's own verification code.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;

use super::Callee;
use super::calls_tests::{
    Auth, Body, EXOTEL_CONNECT, PLIVO_ID, TWILIO_SID, VONAGE_APP, VONAGE_SECRET, app_jwt, cloud, plivo_calls, post, twilio_calls,
};
use crate::telephony::{plivo, twilio, vonage};

/// One request our stand-in received (`/ws`: the stream's text messages, one a line).
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    path: String,
    /// The full URL as called, query included.
    url: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Seen {
    fn form(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(&self.body).into_owned().collect()
    }

    /// A field of the form, the JSON body or the query.
    fn field(&self, name: &str) -> Option<String> {
        if let Ok(Value::Object(json)) = serde_json::from_slice::<Value>(&self.body) {
            return json.get(name).and_then(Value::as_str).map(str::to_string);
        }
        let query = self.url.split_once('?').map(|(_, q)| q.as_bytes().to_vec()).unwrap_or_default();
        self.form().into_iter().chain(form_urlencoded::parse(&query).into_owned()).find(|(k, _)| k == name).map(|(_, v)| v)
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The stand-in: what it saw, its answer document, its base URL.
#[derive(Clone)]
struct Ours {
    seen: Arc<Mutex<Vec<Seen>>>,
    answer: Arc<String>,
    base: String,
}

impl Ours {
    /// Serves the stand-in; `answer` makes the answer document from the stream's `ws://` URL.
    async fn start(answer: impl Fn(&str) -> String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let ours = Self { seen: Arc::default(), answer: Arc::new(answer(&format!("{}/ws", base.replace("http", "ws")))), base };
        let app = Router::new().route("/ws", get(stream)).fallback(record).with_state(ours.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        ours
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Waits (up to 15 s) until `done` holds for what was seen; what was seen at `path`.
    async fn until(&self, path: &str, done: impl Fn(&[Seen]) -> bool) -> Vec<Seen> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let seen = self.seen.lock().unwrap().clone();
            if done(&seen) || tokio::time::Instant::now() > deadline {
                assert!(done(&seen), "never happened; seen: {seen:#?}");
                return seen.into_iter().filter(|s| s.path == path).collect();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn at(&self, path: &str) -> Vec<Seen> {
        self.seen.lock().unwrap().iter().filter(|s| s.path == path).cloned().collect()
    }
}

async fn record(State(ours): State<Ours>, method: Method, OriginalUri(uri): OriginalUri, headers: HeaderMap, body: Bytes) -> Response {
    let url = format!("{}{uri}", ours.base);
    let path = uri.path().to_string();
    let answer = if path == "/answer" { ours.answer.to_string() } else { String::new() };
    ours.seen.lock().unwrap().push(Seen { method, path, url, headers, body: body.to_vec() });
    answer.into_response()
}

/// Takes the stream's messages up to its start (`start`, Vonage's `websocket:connected`),
/// records them, and closes: the agent hangs up at once.
async fn stream(State(ours): State<Ours>, upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(move |mut socket| async move {
        let mut texts = Vec::new();
        while let Ok(Some(Ok(message))) = tokio::time::timeout(Duration::from_secs(5), socket.recv()).await {
            if let Message::Text(text) = message {
                let started = text.contains("\"start\"") || text.contains("websocket:connected");
                texts.push(text.to_string());
                if started {
                    break;
                }
            }
        }
        let seen = Seen {
            method: Method::GET,
            path: "/ws".into(),
            url: String::new(),
            headers: HeaderMap::new(),
            body: texts.join("\n").into_bytes(),
        };
        ours.seen.lock().unwrap().push(seen);
        let _ = socket.send(Message::Close(None)).await;
    })
}

/// How many seen at `path` have `field` = `value`.
fn count(seen: &[Seen], path: &str, field: &str, value: &str) -> usize {
    seen.iter().filter(|s| s.path == path && s.field(field).as_deref() == Some(value)).count()
}

fn twilio_signed(seen: &Seen) -> bool {
    let form = seen.form();
    twilio::signature::verify(
        "twtoken",
        &twilio::signature::Signed { url: &seen.url, form: &form, body: &seen.body, header: seen.header("x-twilio-signature") },
    )
}

#[tokio::test]
async fn twilio_reports_every_asked_event_signed_and_fetches_the_url_as_outbound_api() {
    let (cloud, addr) = cloud().await;
    cloud.ring(Duration::from_millis(50));
    cloud.callee("+14155552672", Callee::Busy);
    let ours = Ours::start(|ws| format!(r#"<Response><Connect><Stream url="{ws}"/></Connect></Response>"#)).await;
    let (answer, status) = (ours.url("/answer"), ours.url("/status"));
    let mut form = vec![("To", "+14155552671"), ("From", "+14155550100"), ("Url", answer.as_str()), ("StatusCallback", status.as_str())];
    form.extend([("StatusCallbackEvent", "initiated"), ("StatusCallbackEvent", "ringing answered"), ("StatusCallbackEvent", "completed")]);
    form.push(("MachineDetection", "Enable"));
    let (code, _, call) = post(addr, &twilio_calls(), Auth::Basic(TWILIO_SID, "twtoken"), Body::Form(&form)).await;
    assert_eq!(code, reqwest::StatusCode::CREATED);
    let sid = call["sid"].as_str().unwrap();
    let statuses = ours.until("/status", |s| count(s, "/status", "CallStatus", "completed") == 1).await;
    let reported: Vec<(String, String)> =
        statuses.iter().map(|s| (s.field("CallStatus").unwrap(), s.field("SequenceNumber").unwrap())).collect();
    let expected =
        [("initiated", "0"), ("ringing", "1"), ("in-progress", "2"), ("completed", "3")].map(|(a, b)| (a.to_string(), b.to_string()));
    assert_eq!(reported, expected);
    for s in &statuses {
        assert!(twilio_signed(s), "{s:?}");
        assert_eq!((s.field("CallSid").as_deref(), s.field("Direction").as_deref()), (Some(sid), Some("outbound-api")));
        assert_eq!((s.field("From").as_deref(), s.field("To").as_deref()), (Some("+14155550100"), Some("+14155552671")));
    }
    let completed = &statuses[3];
    assert!(completed.field("CallDuration").unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(completed.field("AnsweredBy").as_deref(), Some("human"));
    let answers = ours.at("/answer");
    assert_eq!(answers.len(), 1);
    let a = &answers[0];
    assert!(twilio_signed(a) && a.method == Method::POST);
    assert_eq!(
        [a.field("CallSid"), a.field("Direction"), a.field("CallStatus"), a.field("AnsweredBy"), a.field("From")]
            .map(Option::unwrap_or_default),
        [sid, "outbound-api", "in-progress", "human", "+14155550100"]
    );
    assert!(String::from_utf8_lossy(&ours.at("/ws")[0].body).contains(sid), "the stream's start names the call");

    // Busy: only `completed`, with the status word; no answer request.
    let busy = [("To", "+14155552672"), ("From", "+14155550100"), ("Url", answer.as_str()), ("StatusCallback", status.as_str())];
    let (_, _, call) = post(addr, &twilio_calls(), Auth::Basic(TWILIO_SID, "twtoken"), Body::Form(&busy)).await;
    let sid = call["sid"].as_str().unwrap().to_string();
    let statuses = ours.until("/status", |s| count(s, "/status", "CallSid", &sid) == 1).await;
    let last = statuses.iter().find(|s| s.field("CallSid").as_deref() == Some(&sid)).unwrap();
    assert!(twilio_signed(last));
    assert_eq!((last.field("CallStatus").as_deref(), last.field("SequenceNumber").as_deref()), (Some("busy"), Some("0")));
    assert_eq!(ours.at("/answer").len(), 1);
    assert_eq!((cloud.finished(), cloud.live(), cloud.callback_failures()), (2, 0, 0));
}

#[tokio::test]
async fn exotel_streams_straight_to_the_stream_url_and_posts_answered_and_terminal() {
    let (cloud, addr) = cloud().await;
    cloud.ring(Duration::from_millis(50));
    cloud.callee("+919876543211", Callee::NoAnswer);
    let ours = Ours::start(|_| String::new()).await;
    let (ws, status) = (format!("{}/ws", ours.base.replace("http", "ws")), ours.url("/status"));
    let mut form =
        vec![("From", "09876543210"), ("CallerId", "01140000001"), ("StreamUrl", ws.as_str()), ("StatusCallback", status.as_str())];
    form.extend([("StatusCallbackEvents[0]", "terminal"), ("StatusCallbackEvents[1]", "answered"), ("CustomField", "campaign-7")]);
    let (_, _, body) = post(addr, EXOTEL_CONNECT, Auth::Basic("exokey", "exotoken"), Body::Form(&form)).await;
    let sid = body["Call"]["Sid"].as_str().unwrap().to_string();
    let statuses = ours.until("/status", |s| count(s, "/status", "EventType", "terminal") == 1).await;
    let events: Vec<(String, String)> = statuses.iter().map(|s| (s.field("EventType").unwrap(), s.field("Status").unwrap())).collect();
    assert_eq!(events, [("answered".to_string(), "in-progress".to_string()), ("terminal".into(), "completed".into())]);
    for s in &statuses {
        assert_eq!(
            [s.field("CallSid"), s.field("Direction"), s.field("CustomField")].map(Option::unwrap_or_default),
            [&sid[..], "outbound-api", "campaign-7"]
        );
    }
    assert!(statuses[1].field("ConversationDuration").unwrap().parse::<u64>().unwrap() >= 1);
    let start = String::from_utf8_lossy(&ours.at("/ws")[0].body).to_string();
    for part in [format!(r#""call_sid":"{sid}""#), r#""from":"01140000001""#.into(), r#""to":"09876543210""#.into()] {
        assert!(start.contains(&part), "{part} in {start}");
    }

    let no_answer = [("From", "09876543211"), ("CallerId", "01140000001"), ("StreamUrl", ws.as_str()), ("StatusCallback", status.as_str())];
    let (_, _, body) = post(addr, EXOTEL_CONNECT, Auth::Basic("exokey", "exotoken"), Body::Form(&no_answer)).await;
    let sid = body["Call"]["Sid"].as_str().unwrap().to_string();
    let statuses = ours.until("/status", |s| count(s, "/status", "CallSid", &sid) == 1).await;
    let last = statuses.iter().find(|s| s.field("CallSid").as_deref() == Some(&sid)).unwrap();
    assert_eq!((last.field("EventType").as_deref(), last.field("Status").as_deref()), (Some("terminal"), Some("no-answer")));
    assert_eq!(ours.at("/ws").len(), 1, "an unanswered call streams nothing");
}

#[tokio::test]
async fn vonage_signs_its_events_reports_a_machine_and_fetches_the_ncco() {
    let (cloud, addr) = cloud().await;
    cloud.ring(Duration::from_millis(50));
    cloud.callee("+447700900100", Callee::Machine);
    cloud.callee("+447700900101", Callee::NoAnswer);
    let ours = Ours::start(|ws| {
        format!(r#"[{{"action":"connect","endpoint":[{{"type":"websocket","uri":"{ws}","content-type":"audio/l16;rate=16000"}}]}}]"#)
    })
    .await;
    let dial = |to: &str| {
        let mut dial = super::calls_tests::vonage_dial("447700900001", to);
        dial["answer_url"] = serde_json::json!([ours.url("/answer")]);
        dial["event_url"] = serde_json::json!([ours.url("/event")]);
        dial["machine_detection"] = "continue".into();
        dial
    };
    let (_, _, call) = post(addr, "/v1/calls", Auth::Bearer(app_jwt(VONAGE_APP)), Body::Json(dial("447700900100"))).await;
    let uuid = call["uuid"].as_str().unwrap().to_string();
    let events = ours.until("/event", |s| count(s, "/event", "status", "completed") == 1).await;
    let statuses: Vec<String> = events.iter().map(|s| s.field("status").unwrap()).collect();
    assert_eq!(statuses, ["started", "ringing", "answered", "machine", "completed"]);
    let expect = vonage::signature::Expect { api_key: "vgkey".into(), application_id: Some(VONAGE_APP.into()) };
    let now = chrono::Utc::now().timestamp();
    for e in &events {
        vonage::signature::verify(VONAGE_SECRET, e.header("authorization"), &e.body, &expect, now).unwrap();
        let id = if e.field("status").as_deref() == Some("machine") { "call_uuid" } else { "uuid" };
        assert_eq!(e.field(id).as_deref(), Some(uuid.as_str()), "{e:?}");
    }
    assert!(events[4].field("duration").unwrap().parse::<u64>().unwrap() >= 1);
    let answers = ours.at("/answer");
    let a = &answers[0];
    assert_eq!((answers.len(), &a.method), (1, &Method::GET));
    vonage::signature::verify(VONAGE_SECRET, a.header("authorization"), b"", &expect, now).unwrap();
    assert_eq!(
        [a.field("uuid"), a.field("conversation_uuid"), a.field("from"), a.field("to")].map(Option::unwrap_or_default),
        [uuid.as_str(), call["conversation_uuid"].as_str().unwrap(), "447700900001", "447700900100"]
    );
    assert!(String::from_utf8_lossy(&ours.at("/ws")[0].body).contains("websocket:connected"), "the NCCO's stream was opened");

    let (_, _, call) = post(addr, "/v1/calls", Auth::Bearer(app_jwt(VONAGE_APP)), Body::Json(dial("447700900101"))).await;
    let uuid = call["uuid"].as_str().unwrap().to_string();
    let events = ours.until("/event", |s| count(s, "/event", "status", "timeout") == 1).await;
    let statuses: Vec<String> =
        events.iter().filter(|e| e.field("uuid").as_deref() == Some(&uuid)).map(|s| s.field("status").unwrap()).collect();
    assert_eq!(statuses, ["started", "ringing", "timeout"]);
}

fn plivo_signed(seen: &Seen) -> bool {
    let form = seen.form();
    plivo::signature::verify(
        "pltoken",
        "POST",
        &seen.url,
        &form,
        seen.header(plivo::signature::NONCE),
        seen.header(plivo::signature::HEADER),
    )
}

#[tokio::test]
async fn plivo_rings_answers_with_the_request_uuid_and_hangs_up_signed() {
    let (cloud, addr) = cloud().await;
    cloud.ring(Duration::from_millis(50));
    cloud.callee("+14155552672", Callee::Busy);
    let ours =
        Ours::start(|ws| format!(r#"<Response><Stream bidirectional="true" contentType="audio/x-l16;rate=8000">{ws}</Stream></Response>"#))
            .await;
    let dial = |to: &str| {
        let urls = [("answer_url", "/answer"), ("ring_url", "/ring"), ("hangup_url", "/hangup")];
        let mut dial = serde_json::json!({ "from": "14155550200", "to": to });
        for (name, path) in urls {
            dial[name] = ours.url(path).into();
        }
        dial
    };
    let (_, _, fired) = post(addr, &plivo_calls(), Auth::Basic(PLIVO_ID, "pltoken"), Body::Json(dial("14155552671"))).await;
    let request_uuid = fired["request_uuid"].as_str().unwrap().to_string();
    let hangups = ours.until("/hangup", |s| count(s, "/hangup", "RequestUUID", &request_uuid) == 1).await;
    let call_uuid = cloud.dials()[0].call_id.clone();
    let (ring, answer, hangup) = (&ours.at("/ring")[0], &ours.at("/answer")[0], &hangups[0]);
    for s in [ring, answer, hangup] {
        assert!(plivo_signed(s), "{s:?}");
        assert_eq!(
            [s.field("CallUUID"), s.field("Direction"), s.field("From"), s.field("To")].map(Option::unwrap_or_default),
            [call_uuid.as_str(), "outbound", "14155550200", "14155552671"]
        );
    }
    assert_eq!(ring.field("CallStatus").as_deref(), Some("ringing"));
    assert_eq!(
        [answer.field("ALegRequestUUID"), answer.field("CallStatus"), answer.field("Event")].map(Option::unwrap_or_default),
        [request_uuid.as_str(), "in-progress", "StartApp"]
    );
    assert_eq!(
        (hangup.field("CallStatus").as_deref(), hangup.field("HangupCause").as_deref()),
        (Some("completed"), Some("NORMAL_CLEARING"))
    );
    assert!(hangup.field("Duration").unwrap().parse::<u64>().unwrap() >= 1);
    assert!(String::from_utf8_lossy(&ours.at("/ws")[0].body).contains(&call_uuid), "the stream's start names the call");

    let (_, _, fired) = post(addr, &plivo_calls(), Auth::Basic(PLIVO_ID, "pltoken"), Body::Json(dial("14155552672"))).await;
    let request_uuid = fired["request_uuid"].as_str().unwrap().to_string();
    let hangups = ours.until("/hangup", |s| count(s, "/hangup", "RequestUUID", &request_uuid) == 1).await;
    let busy = hangups.iter().find(|s| s.field("RequestUUID").as_deref() == Some(&request_uuid)).unwrap();
    assert!(plivo_signed(busy));
    assert_eq!(
        [busy.field("CallStatus"), busy.field("HangupCause"), busy.field("Duration")].map(Option::unwrap_or_default),
        ["busy", "USER_BUSY", "0"]
    );
    assert_eq!(ours.at("/answer").len(), 1, "a busy line is never answered");
}
