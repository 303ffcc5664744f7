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
    marks: usize,
    closed: Option<(u16, String)>,
}

#[tokio::test]
async fn a_spoken_turn_is_transcribed_and_answered_and_the_call_is_stored_as_a_test() {
    let _voice = common::voice_lock().await;
    let d = desk().await;
    let speech = d
        .state
        .voice
        .pipeline(&domain::agent::AgentInput::default(), None)
        .tts
        .synthesize("What are your opening hours?", 16_000)
        .await
        .unwrap();
    let (ws, _) =
        tokio_tungstenite::connect_async(request(&d.base, &d.agent, &[("authorization", &format!("Bearer {}", d.token))])).await.unwrap();
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
                    match v["event"].as_str() {
                        Some("started") => h.lock().unwrap().call_id = v["callId"].as_str().map(str::to_string),
                        // Played at once: the test's browser has no loudspeaker.
                        Some("mark") => {
                            h.lock().unwrap().marks += 1;
                            let _ = echo.send(Message::Text(t)).await;
                        }
                        _ => {}
                    }
                }
                Message::Binary(b) => {
                    let mut h = h.lock().unwrap();
                    h.audio_bytes += b.len();
                    h.last_audio = Some(Instant::now());
                }
                Message::Close(f) => h.lock().unwrap().closed = f.map(|f| (u16::from(f.code), f.reason.to_string())),
                _ => {}
            }
        }
    });
    // The agent speaks (and goes quiet) when the audio has stopped for 800 ms.
    let quiet_after = |from: usize| {
        let heard = heard.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                {
                    let h = heard.lock().unwrap();
                    if h.audio_bytes > from && h.last_audio.is_some_and(|t| t.elapsed() > Duration::from_millis(800)) {
                        return h.audio_bytes;
                    }
                }
                assert!(Instant::now() < deadline, "the agent never spoke");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    let greeting = quiet_after(0).await;
    // The caller speaks in real time, 100 ms a message, then 2 s of silence.
    let bytes: Vec<u8> = speech.iter().chain(std::iter::repeat_n(&0i16, 32_000)).flat_map(|s| s.to_le_bytes()).collect();
    for chunk in bytes.chunks(3200) {
        tx.send(Message::Binary(chunk.to_vec().into())).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    quiet_after(greeting).await;
    tx.send(Message::Text(r#"{"event":"stop"}"#.into())).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while heard.lock().unwrap().closed.is_none() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (call_id, closed, marks) = {
        let h = heard.lock().unwrap();
        (h.call_id.clone().expect("started names the call"), h.closed.clone(), h.marks)
    };
    assert_eq!(closed.map(|c| c.0), Some(1000));
    assert!(marks > 0, "the agent's audio is paced with marks");
    let call = common::get_json(&d.base, &d.token, &format!("/api/calls/{call_id}")).await;
    assert_eq!(call["direction"], "test", "{call}");
    assert_eq!(call["status"], "completed", "{call}");
    assert_eq!(call["agentId"], d.agent.as_str());
    let turns = call["turns"].as_array().unwrap();
    let said =
        |role: &str| turns.iter().filter(|t| t["role"] == role).map(|t| t["text"].as_str().unwrap().to_lowercase()).collect::<Vec<_>>();
    assert!(said("caller").iter().any(|t| t.contains("opening hours")), "{turns:?}");
    let agent = said("agent");
    assert!(agent.iter().any(|t| t.contains("hello from the web desk")), "{agent:?}");
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
