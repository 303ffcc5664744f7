//! Helpers of the notification tests: a webhook receiver on loopback, an independent signature
//! check, states with fast retries and their delivery worker.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use domain::notify::{DeliveryState, DeliveryView, NotificationInput};
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::Value;
use server::{AppState, Settings};

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Hit {
    pub signature: String,
    pub event_id: String,
    pub event_type: String,
    pub body: Vec<u8>,
    pub at: Instant,
}

impl Hit {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// A webhook receiver on loopback answering the statuses it was given, then 200.
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    pub hits: Arc<Mutex<Vec<Hit>>>,
}

impl Receiver {
    pub async fn start(answers: &[u16]) -> Self {
        let hits: Arc<Mutex<Vec<Hit>>> = Arc::default();
        let answers = Arc::new(Mutex::new(answers.iter().copied().collect::<VecDeque<u16>>()));
        let (h, a) = (hits.clone(), answers.clone());
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let (h, a) = (h.clone(), a.clone());
                async move {
                    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
                    h.lock().unwrap().push(Hit {
                        signature: header("voxgate-signature"),
                        event_id: header("voxgate-event-id"),
                        event_type: header("voxgate-event-type"),
                        body: body.to_vec(),
                        at: Instant::now(),
                    });
                    let code = a.lock().unwrap().pop_front().unwrap_or(200);
                    StatusCode::from_u16(code).unwrap()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, hits }
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    /// Waits up to `secs` for `n` requests.
    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<Hit> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while self.hits.lock().unwrap().len() < n && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.hits()
    }
}

/// The receiver's side of a signature, computed here without the server's code: HMAC-SHA256
/// of `<t>.<body>` under the secret, `t` within five minutes.
pub fn verify(secret: &str, header: &str, body: &[u8]) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", x)) => t = x.parse::<i64>().ok(),
            Some(("v1", x)) => v1 = hex::decode(x).ok(),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else { return false };
    if (chrono::Utc::now().timestamp() - t).abs() > 300 {
        return false;
    }
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    mac.verify_slice(&v1).is_ok()
}

/// Test settings with fast retries (`waits` in ms).
pub fn settings(waits: &[u64]) -> Settings {
    let mut s = Settings::for_tests();
    s.notify.retries = waits.iter().map(|ms| Duration::from_millis(*ms)).collect();
    s
}

/// A state on a fresh database with its delivery worker running.
pub async fn state_with(settings: Settings) -> AppState {
    server::telemetry::init("warn,surrealdb=error");
    let state = AppState::connect(settings).await.expect("test database");
    server::notify::worker::spawn(state.clone());
    state
}

pub fn webhook(url: &str) -> NotificationInput {
    NotificationInput { webhook_url: url.into(), ..Default::default() }
}

/// Waits up to `secs` until every delivery of `owner` is in `want`.
pub async fn settled(state: &AppState, owner: &server::users::Owner, want: DeliveryState, secs: u64) -> Vec<DeliveryView> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let log = server::notify::settings::deliveries(state, owner).await.unwrap();
        if (!log.is_empty() && log.iter().all(|d| d.state == want)) || Instant::now() > deadline {
            return log;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until `n` deliveries of `owner` are delivered.
pub async fn delivered(state: &AppState, owner: &server::users::Owner, n: usize, secs: u64) -> Vec<DeliveryView> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let log = server::notify::settings::deliveries(state, owner).await.unwrap();
        if log.iter().filter(|d| d.state == DeliveryState::Delivered).count() >= n || Instant::now() > deadline {
            return log;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A speech turn of call `call_key` (owned by `owner`) saying `text`, stamped with the state's time.
pub fn speech_turn(
    state: &AppState,
    call_key: &str,
    owner: &server::users::Owner,
    seq: i64,
    role: domain::call::Role,
    text: &str,
) -> server::db::turns::NewTurn {
    server::db::turns::NewTurn {
        call_key: call_key.into(),
        owner_id: owner.id().into(),
        seq,
        role,
        kind: domain::call::TurnKind::Speech,
        text: text.into(),
        started_at: state.clock.now_rfc3339(),
        ended_at: state.clock.now_rfc3339(),
        interrupted: false,
        timings: Default::default(),
    }
}

/// A user ("ana@example.com") with agent "Desk" on a linked number, whose webhook is
/// `receiver`'s: the user, the number and the signing secret shown once.
pub async fn desk(state: &AppState, receiver: &Receiver) -> (server::users::CurrentUser, domain::phone_number::PhoneNumberView, String) {
    let user = crate::common::user(state, "ana@example.com").await;
    let agent =
        server::agents::create(state, &user.owner, domain::agent::AgentInput { name: "Desk".into(), ..Default::default() }).await.unwrap();
    let number = crate::common::linked_number(state, &user.owner, &agent.id).await;
    let saved = server::notify::settings::save(state, &user.owner, webhook(&receiver.url)).await.unwrap();
    (user, number, saved.new_secret.expect("the first webhook makes the secret"))
}
