//! The browser test call's WebSocket (`/api/agents/{id}/test-call`): who may open it, a spoken
//! turn transcribed and answered through the real pipeline, and bad frames closed with a code.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::common;

const HOURS: &str = "We are open from nine to five.";

struct Desk {
    state: server::AppState,
    base: String,
    user: server::users::CurrentUser,
    token: String,
    agent: String,
}

async fn desk() -> Desk {
    let (state, base) = common::live_server().await;
    let (user, token) = common::user_with_token(&state, "browser@example.com").await;
    let input = domain::agent::AgentInput {
        name: "Web desk".into(),
        greeting: "Hello from the web desk.".into(),
        rules: vec![domain::agent::ScriptRule { keywords: vec!["open".into(), "hours".into()], reply: HOURS.into() }],
        ..Default::default()
    };
    let agent = server::agents::create(&state, &user.owner, input).await.unwrap().id;
    Desk { state, base, user, token, agent }
}

/// The socket's request for `agent`, with `headers`.
fn request(base: &str, agent: &str, headers: &[(&str, &str)]) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    let url = format!("{}/api/agents/{agent}/test-call", base.replace("http://", "ws://"));
    let mut req = url.into_client_request().unwrap();
    for (name, value) in headers {
        let name = reqwest::header::HeaderName::from_bytes(name.as_bytes()).unwrap();
        req.headers_mut().insert(name, value.parse().unwrap());
    }
    req
}

/// The HTTP status a refused upgrade answered.
async fn refused(req: tokio_tungstenite::tungstenite::handshake::client::Request) -> u16 {
    match tokio_tungstenite::connect_async(req).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => res.status().as_u16(),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("the socket opened"),
    }
}

#[tokio::test]
async fn only_the_agents_owner_from_our_own_origin_may_open_a_test_call() {
    let d = desk().await;
    assert_eq!(refused(request(&d.base, &d.agent, &[])).await, 401);
    let (_, other) = common::user_with_token(&d.state, "other@example.com").await;
    assert_eq!(refused(request(&d.base, &d.agent, &[("authorization", &format!("Bearer {other}"))])).await, 404);
    assert_eq!(refused(request(&d.base, "nosuchagent", &[("authorization", &format!("Bearer {}", d.token))])).await, 404);
    // A session cookie works from our pages only: another site's page cannot borrow it.
    let session = server::users::open_session(&d.state, &d.user.owner).await.unwrap();
    let cookie = format!("vg_session={session}");
    let evil = request(&d.base, &d.agent, &[("cookie", &cookie), ("origin", "https://evil.example.com")]);
    assert_eq!(refused(evil).await, 403);
    let (mut ws, _) =
        tokio_tungstenite::connect_async(request(&d.base, &d.agent, &[("cookie", &cookie), ("origin", &d.base)])).await.unwrap();
    let first = ws.next().await.unwrap().unwrap();
    let started: Value = serde_json::from_str(first.to_text().unwrap()).unwrap();
    assert_eq!(started["event"], "started");
    // Two test calls at once per user: a third is refused until one ends.
    let (mut second, _) =
        tokio_tungstenite::connect_async(request(&d.base, &d.agent, &[("cookie", &cookie), ("origin", &d.base)])).await.unwrap();
    assert_eq!(refused(request(&d.base, &d.agent, &[("cookie", &cookie), ("origin", &d.base)])).await, 429);
    ws.close(None).await.unwrap();
    second.close(None).await.unwrap();
}

/// What the test's browser heard.
#[derive(Default)]
struct Heard {
    call_id: Option<String>,
    audio_bytes: usize,
    last_audio: Option<Instant>,
    /// When the agent's audio received so far has played out (real time, as a loudspeaker).
    played_until: Option<Instant>,
    marks: usize,
    clears: usize,
    closed: Option<(u16, String)>,
}

/// A browser on the test-call socket: it plays the agent's audio in real time (echoing each
/// mark when the audio before it has played, dropping what is queued on `clear`) and speaks.
struct Browser {
    tx: tokio::sync::mpsc::Sender<Message>,
    heard: Arc<Mutex<Heard>>,
}

impl Browser {
    async fn open(d: &Desk) -> Browser {
        let auth = format!("Bearer {}", d.token);
        let (ws, _) = tokio_tungstenite::connect_async(request(&d.base, &d.agent, &[("authorization", &auth)])).await.unwrap();
        let (mut write, mut read) = ws.split();
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Message>(64);
        tokio::spawn(async move {
            while let Some(m) = rx.recv().await {
                if write.send(m).await.is_err() {
                    break;
                }
            }
        });
        let heard = Arc::new(Mutex::new(Heard::default()));
        let (h, echo) = (heard.clone(), tx.clone());
        tokio::spawn(async move {
            while let Some(Ok(m)) = read.next().await {
                match m {
                    Message::Text(t) => {
                        let v: Value = serde_json::from_str(&t).unwrap();
                        let mut heard = h.lock().unwrap();
                        match v["event"].as_str() {
                            Some("started") => heard.call_id = v["callId"].as_str().map(str::to_string),
                            Some("mark") => {
                                heard.marks += 1;
                                let (h, echo, clears) = (h.clone(), echo.clone(), heard.clears);
                                let due = heard.played_until.unwrap_or_else(Instant::now);
                                tokio::spawn(async move {
                                    while Instant::now() < due && h.lock().unwrap().clears == clears {
                                        tokio::time::sleep(Duration::from_millis(20)).await;
                                    }
                                    let _ = echo.send(Message::Text(t)).await;
                                });
                            }
                            Some("clear") => {
                                heard.clears += 1;
                                heard.played_until = Some(Instant::now());
                            }
                            _ => {}
                        }
                    }
                    Message::Binary(b) => {
                        let mut heard = h.lock().unwrap();
                        let now = Instant::now();
                        heard.audio_bytes += b.len();
                        heard.last_audio = Some(now);
                        let from = heard.played_until.filter(|t| *t > now).unwrap_or(now);
                        heard.played_until = Some(from + Duration::from_secs_f64(b.len() as f64 / 32_000.0));
                    }
                    Message::Close(f) => h.lock().unwrap().closed = f.map(|f| (u16::from(f.code), f.reason.to_string())),
                    _ => {}
                }
            }
        });
        Browser { tx, heard }
    }

    /// Waits until the agent has said more than `from` bytes and its audio has played out.
    async fn quiet_after(&self, from: usize) -> usize {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            {
                let h = self.heard.lock().unwrap();
                let played = h.played_until.is_some_and(|t| t + Duration::from_millis(800) < Instant::now());
                if h.audio_bytes > from && played && h.last_audio.is_some_and(|t| t.elapsed() > Duration::from_millis(800)) {
                    return h.audio_bytes;
                }
            }
            assert!(Instant::now() < deadline, "the agent never went quiet");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Speaks `samples` (16 kHz) in real time, 100 ms a message, then 2 s of silence.
    async fn speak(&self, samples: &[i16]) {
        let bytes: Vec<u8> = samples.iter().chain(std::iter::repeat_n(&0i16, 32_000)).flat_map(|s| s.to_le_bytes()).collect();
        for chunk in bytes.chunks(3200) {
            self.tx.send(Message::Binary(chunk.to_vec().into())).await.unwrap();
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Hangs up; the call's id and how the server closed the socket.
    async fn hang_up(&self) -> (String, Option<(u16, String)>) {
        self.tx.send(Message::Text(r#"{"event":"stop"}"#.into())).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.heard.lock().unwrap().closed.is_none() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let h = self.heard.lock().unwrap();
        (h.call_id.clone().expect("started names the call"), h.closed.clone())
    }
}

async fn speech(d: &Desk, text: &str) -> Vec<i16> {
    d.state.voice.pipeline(&domain::agent::AgentInput::default(), None).tts.synthesize(text, 16_000).await.unwrap()
}

/// The call as stored, and its turns' texts by role (lower case).
async fn stored(d: &Desk, call_id: &str) -> (Value, Vec<String>, Vec<String>) {
    let call = common::get_json(&d.base, &d.token, &format!("/api/calls/{call_id}")).await;
    let turns = call["turns"].as_array().unwrap();
    let said = |role: &str| turns.iter().filter(|t| t["role"] == role).map(|t| t["text"].as_str().unwrap().to_lowercase()).collect();
    let (caller, agent) = (said("caller"), said("agent"));
    (call, caller, agent)
}

/// Waits (30 s at most) until the agent's stored turns hold `needle`: a turn is stored once it
/// has played, later when the machine is busy.
async fn agent_said(d: &Desk, call_id: &str, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !stored(d, call_id).await.2.iter().any(|t| t.contains(needle)) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_spoken_turn_is_transcribed_and_answered_and_the_call_is_stored_as_a_test() {
    let _voice = common::voice_lock().await;
    let d = desk().await;
    let line = speech(&d, "What are your opening hours?").await;
    let browser = Browser::open(&d).await;
    let greeting = browser.quiet_after(0).await;
    browser.speak(&line).await;
    browser.quiet_after(greeting).await;
    let call_id = browser.heard.lock().unwrap().call_id.clone().unwrap();
    agent_said(&d, &call_id, "nine to five").await;
    let (_, closed) = browser.hang_up().await;
    assert_eq!(closed.map(|c| c.0), Some(1000));
    assert!(browser.heard.lock().unwrap().marks > 0, "the agent's audio is paced with marks");
    let (call, caller, agent) = stored(&d, &call_id).await;
    assert_eq!(call["direction"], "test", "{call}");
    assert_eq!(call["status"], "completed", "{call}");
    assert_eq!(call["phoneNumber"], "Browser test call", "{call}");
    assert_eq!(call["agentId"], d.agent.as_str());
    assert!(caller.iter().any(|t| t.contains("opening hours")), "{caller:?}");
    assert!(agent.iter().any(|t| t.contains("hello from the web desk")), "{agent:?}");
    assert!(agent.iter().any(|t| t.contains("nine to five")), "{agent:?}");
}

#[tokio::test]
async fn the_caller_speaking_over_the_agent_clears_its_audio_and_is_answered() {
    let _voice = common::voice_lock().await;
    let mut d = desk().await;
    let long = domain::agent::AgentInput {
        name: "Chatty desk".into(),
        greeting: "Hello from the web desk. We can help with your orders, returns, deliveries and payments, \
                   and we can tell you about our stores and their opening hours. How can I help you today?"
            .into(),
        rules: vec![domain::agent::ScriptRule { keywords: vec!["open".into(), "hours".into()], reply: HOURS.into() }],
        ..Default::default()
    };
    d.agent = server::agents::create(&d.state, &d.user.owner, long).await.unwrap().id;
    let line = speech(&d, "What are your opening hours?").await;
    let browser = Browser::open(&d).await;
    // Talk over the greeting once it has played for a second and a half.
    let deadline = Instant::now() + Duration::from_secs(20);
    while browser.heard.lock().unwrap().audio_bytes == 0 {
        assert!(Instant::now() < deadline, "no greeting");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    browser.speak(&line).await;
    assert!(browser.heard.lock().unwrap().clears > 0, "the agent's queued audio is cleared");
    let call_id = browser.heard.lock().unwrap().call_id.clone().unwrap();
    agent_said(&d, &call_id, "nine to five").await;
    browser.hang_up().await;
    let (call, caller, agent) = stored(&d, &call_id).await;
    let greeting = &call["turns"].as_array().unwrap().iter().find(|t| t["kind"] == "greeting").cloned().unwrap();
    assert_eq!(greeting["interrupted"], true, "{call}");
    assert!(caller.iter().any(|t| t.contains("opening hours")), "{caller:?}");
    assert!(agent.iter().any(|t| t.contains("nine to five")), "{agent:?}");
}

#[tokio::test]
async fn bad_frames_close_with_1007_too_fast_audio_with_1008_and_the_call_is_recorded_as_failed() {
    let d = desk().await;
    for bad in [Message::Binary(vec![1u8, 2, 3].into()), Message::Text("{\"event\":\"dance\"}".into())] {
        let (mut ws, _) =
            tokio_tungstenite::connect_async(request(&d.base, &d.agent, &[("authorization", &format!("Bearer {}", d.token))]))
                .await
                .unwrap();
        let first = ws.next().await.unwrap().unwrap();
        let call_id = serde_json::from_str::<Value>(first.to_text().unwrap()).unwrap()["callId"].as_str().unwrap().to_string();
        ws.send(bad).await.unwrap();
        let (code, reason) = common::close_of(&mut ws).await.expect("closed by the server");
        assert_eq!(code, 1007, "{reason}");
        let deadline = Instant::now() + Duration::from_secs(5);
        let call = loop {
            let call = common::get_json(&d.base, &d.token, &format!("/api/calls/{call_id}")).await;
            if call["status"] != "in_progress" || Instant::now() > deadline {
                break call;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(call["status"], "failed", "{call}");
        assert!(call["reason"].as_str().unwrap().contains("malformed"), "{call}");
    }
    // Audio faster than real time (3 s of it at once) breaks the peer rules: 1008.
    let (mut ws, _) =
        tokio_tungstenite::connect_async(request(&d.base, &d.agent, &[("authorization", &format!("Bearer {}", d.token))])).await.unwrap();
    ws.next().await.unwrap().unwrap();
    for _ in 0..6 {
        let _ = ws.send(Message::Binary(vec![0u8; 16_000].into())).await;
    }
    assert_eq!(common::close_of(&mut ws).await.map(|c| c.0), Some(1008));
    let res = reqwest::Client::new().get(format!("{}/api/calls", d.base)).bearer_auth(&d.token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let calls: Value = res.json().await.unwrap();
    assert_eq!(calls["calls"].as_array().unwrap().len(), 3, "each test call is one call: {calls}");
}
