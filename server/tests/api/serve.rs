//! The HTTP server itself over real sockets: slow headers are cut off, connections are capped,
//! and a stop lets a live call say its closing line, records its end and closes event streams.

use crate::common;

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use server::serve::{Limits, run_with};
use server::{AppState, Settings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

/// A server under `limits` whose stop is the returned sender; its state and base URL.
async fn server(limits: Limits) -> (AppState, String, tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<std::io::Result<()>>) {
    server::telemetry::init(&std::env::var("TEST_LOG").unwrap_or("warn,surrealdb=error".into()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut settings = Settings::for_tests();
    settings.public_url = url::Url::parse(&format!("http://{addr}")).unwrap();
    let state = AppState::connect(settings).await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let shutdown = state.shutdown.clone();
    let router = server::routes::router(state.clone(), axum::Router::new());
    let task = tokio::spawn(run_with(listener, router, limits, async move {
        let _ = stopped.await;
        shutdown.begin();
    }));
    (state, format!("http://{addr}"), stop, task)
}

#[tokio::test]
async fn slow_headers_are_cut_off_and_connections_are_capped() {
    let limits = Limits { max_connections: 2, header_timeout: Duration::from_millis(800), request_timeout: Duration::from_secs(1) };
    let (_state, base, _stop, _task) = server(limits).await;
    let addr = base.trim_start_matches("http://").to_string();
    // A slowloris peer: a byte now and then, never a whole header.
    let mut slow = TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let started = Instant::now();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let _ = slow.write_all(b"X").await;
            tokio::time::sleep(Duration::from_millis(100)).await;
            let mut chunk = [0u8; 256];
            match tokio::time::timeout(Duration::from_millis(10), slow.read(&mut chunk)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return,
                Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
                Err(_) => {}
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the slow peer was never cut off");
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    let text = String::from_utf8_lossy(&buf);
    assert!(text.is_empty() || text.starts_with("HTTP/1.1 408"), "{text}");

    // Two idle connections take both places: a third waits in the backlog, unserved...
    let idle = [TcpStream::connect(&addr).await.unwrap(), TcpStream::connect(&addr).await.unwrap()];
    tokio::time::sleep(Duration::from_millis(100)).await;
    let client = reqwest::Client::builder().timeout(Duration::from_millis(400)).build().unwrap();
    assert!(client.get(format!("{base}/healthz")).send().await.is_err(), "served beyond the cap");
    // ...until a place frees (here: the idle ones are cut off for sending no headers).
    drop(idle);
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    assert_eq!(client.get(format!("{base}/healthz")).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn a_request_whose_body_never_ends_gets_408() {
    let limits = Limits { request_timeout: Duration::from_millis(700), ..Limits::default() };
    let (state, base, _stop, _task) = server(limits).await;
    let (_, token) = common::user_with_token(&state, "slow@example.com").await;
    let mut tcp = TcpStream::connect(base.trim_start_matches("http://")).await.unwrap();
    let head = format!(
        "POST /api/agents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"name\""
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let mut answer = vec![0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut answer)).await.expect("answered").unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    let agents: Vec<Value> = server::db::rows(&state.db, "SELECT id FROM agent", json!({})).await.unwrap();
    assert!(agents.is_empty(), "nothing was written");
}

#[tokio::test]
async fn a_stop_lets_a_live_call_say_goodbye_records_its_end_and_closes_event_streams() {
    let _serial = common::voice_lock().await;
    let (state, base, stop, serving) = server(Limits::default()).await;
    let (user, token) = common::user_with_token(&state, "stop@example.com").await;
    let agent =
        server::agents::create(&state, &user.owner, domain::agent::AgentInput { name: "Desk".into(), ..Default::default() }).await.unwrap();
    let number = common::linked_number(&state, &user.owner, &agent.id).await;
    let live = reqwest::Client::new().get(format!("{base}/api/calls/live")).bearer_auth(token).send().await.unwrap();
    assert_eq!(live.status(), 200);
    let (mut ws, _) = tokio_tungstenite::connect_async(&number.websocket_url).await.unwrap();
    ws.send(common::start_message("CASTOP")).await.unwrap();
    // The greeting starts playing.
    let first = tokio::time::timeout(Duration::from_secs(20), ws.next()).await.unwrap().unwrap().unwrap();
    assert!(first.to_text().unwrap().contains("\"media\""), "{first:?}");

    let stopped_at = Instant::now();
    stop.send(()).unwrap();
    let mut media_after_stop = 0;
    let close = loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await.expect("the call ended") {
            Some(Ok(Message::Text(t))) if t.contains("\"media\"") => media_after_stop += 1,
            Some(Ok(Message::Close(frame))) => break frame.map(|f| (u16::from(f.code), f.reason.to_string())),
            Some(Ok(_)) => {}
            other => panic!("the socket ended without a close frame: {other:?} ({media_after_stop} media frames after the stop)"),
        }
    };
    assert_eq!(close, Some((1001, "server shutting down".to_string())));
    assert!(media_after_stop > 0, "the closing line was played");
    // The event stream ends, and the server returns, well within the deadline.
    let reading = Instant::now();
    let events = common::sse_events(live, Duration::from_secs(3)).await;
    assert!(events.iter().any(|(name, _)| name == "call"), "{events:?}");
    assert!(reading.elapsed() < Duration::from_secs(2), "the event stream stayed open");
    tokio::time::timeout(Duration::from_secs(5), serving).await.expect("the server stopped").unwrap().unwrap();
    assert!(stopped_at.elapsed() < Duration::from_secs(9), "{:?}", stopped_at.elapsed());

    let call: Value =
        server::db::row(&state.db, "SELECT status, reason, ended_at FROM ONLY call:exotel_CASTOP", json!({})).await.unwrap().unwrap();
    assert_eq!((call["status"].as_str(), call["reason"].as_str()), (Some("completed"), Some("server shutting down")), "{call}");
    assert!(call["ended_at"].is_string());
    let said: Vec<String> =
        server::db::rows(&state.db, "SELECT VALUE text FROM turn WHERE call = call:exotel_CASTOP AND role = 'agent'", json!({}))
            .await
            .unwrap();
    assert!(said.iter().any(|t| t.contains("end this call now")), "{said:?}");
}
