//! Shared helpers for integration tests: a fresh database, a real server on loopback.
#![allow(dead_code)]

pub mod openai_server;
pub mod webhooks;

use server::users::CurrentUser;
use server::{AppState, Settings};

/// A state on a fresh in-memory database.
pub async fn state() -> AppState {
    server::telemetry::init("warn,surrealdb=error");
    AppState::connect(Settings::for_tests()).await.expect("test database")
}

/// A state on a fresh embedded SurrealKV file database (the engine `voxgate serve` uses).
pub async fn file_state() -> AppState {
    server::telemetry::init("warn,surrealdb=error");
    let mut settings = Settings::for_tests();
    let dir = std::env::temp_dir().join(format!("voxgate-test-{}", server::db::new_key()));
    settings.database_url = server::config::DatabaseUrl::SurrealKv(dir.join("db"));
    settings.data_dir = dir;
    AppState::connect(settings).await.expect("test database")
}

/// Serves the REST API (behind the CSRF guard) on a free loopback port; returns its base URL.
pub async fn serve(state: AppState) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(server::serve::run(listener, server::routes::router(state, axum::Router::new()), std::future::pending()));
    format!("http://{addr}")
}

/// A fresh in-memory state whose public URL is the loopback server it returns (webhook
/// answers then point at a stream URL that connects).
pub async fn live_server() -> (AppState, String) {
    live_server_with(|_| {}).await
}

/// [`live_server`] with settings changed by `change`.
pub async fn live_server_with(change: impl FnOnce(&mut Settings)) -> (AppState, String) {
    server::telemetry::init("warn,surrealdb=error");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut settings = Settings::for_tests();
    change(&mut settings);
    settings.public_url = url::Url::parse(&format!("http://{addr}")).unwrap();
    let state = AppState::connect(settings).await.expect("test database");
    tokio::spawn(server::serve::run(listener, server::routes::router(state.clone(), axum::Router::new()), std::future::pending()));
    (state, format!("http://{addr}"))
}

/// Signs up `email` with a fixed good password.
pub async fn user(state: &AppState, email: &str) -> CurrentUser {
    server::users::sign_up(state, email, "correct horse battery").await.expect("sign up")
}

/// A user and an API token for them.
pub async fn user_with_token(state: &AppState, email: &str) -> (CurrentUser, String) {
    let u = user(state, email).await;
    let (_, token) = server::users::create_token(state, &u.owner, "tests").await.expect("token");
    (u, token)
}

/// Held by tests that run whole calls through the offline voice: on 2 cores, two such calls
/// at once would measure each other's CPU time rather than the pipeline's latency.
pub async fn voice_lock() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

/// An `other`-provider number (+918047491899) linked to `agent_id`.
pub async fn linked_number(state: &AppState, owner: &server::users::Owner, agent_id: &str) -> domain::phone_number::PhoneNumberView {
    number(state, owner, "+918047491899", Some(agent_id)).await
}

/// An `other`-provider number, linked to `agent_id` when given.
pub async fn number(
    state: &AppState,
    owner: &server::users::Owner,
    phone: &str,
    agent_id: Option<&str>,
) -> domain::phone_number::PhoneNumberView {
    server::numbers::create(
        state,
        owner,
        &domain::phone_number::PhoneNumberInput {
            phone_number: phone.into(),
            provider: "other".into(),
            linked_agent_id: agent_id.map(str::to_string),
            ..Default::default()
        },
    )
    .await
    .expect("number")
}

/// Reads server-sent events (`event:` + `data:`) from a streaming response for `wait`.
pub async fn sse_events(res: reqwest::Response, wait: std::time::Duration) -> Vec<(String, serde_json::Value)> {
    let mut out = Vec::new();
    let mut body = res.bytes_stream();
    let mut buf = String::new();
    let deadline = tokio::time::Instant::now() + wait;
    while let Ok(Some(Ok(chunk))) = tokio::time::timeout_at(deadline, futures_util::StreamExt::next(&mut body)).await {
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let mut name = String::new();
            let mut data = String::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim());
                }
            }
            if !name.is_empty() {
                out.push((name, serde_json::from_str(&data).unwrap_or(serde_json::Value::Null)));
            }
        }
    }
    out
}

/// A ringing Exotel call `sid` from +919876543210 on `number`, answered by `node`.
pub fn ringing<'a>(
    owner_id: &'a str,
    number: &'a domain::phone_number::PhoneNumberView,
    sid: &'a str,
    node: &'a str,
) -> server::db::calls::NewCall<'a> {
    server::db::calls::NewCall {
        owner_id,
        phone_id: &number.id,
        phone_number: &number.phone_number,
        agent_id: None,
        provider: domain::phone_number::Provider::Exotel,
        session_id: sid,
        status: domain::call::CallStatus::Ringing,
        caller: Some("+919876543210"),
        callee: None,
        direction: None,
        params_json: "{}",
        reason: None,
        node,
    }
}

/// A `Write` that keeps what is written, for tests that read the log.
#[derive(Clone, Default)]
pub struct Captured(pub std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Records a call `sid` for `owner` on a new number (ringing, then in progress) with one
/// caller turn, straight in the database (as the telephony side writes it).
pub async fn place_call(state: &AppState, owner: &CurrentUser, sid: &str) {
    let number = number(state, &owner.owner, &format!("+9180474918{}", &sid[sid.len() - 2..]), None).await;
    let (call, _) =
        server::db::calls::insert_or_get(&state.db, &ringing(owner.owner.id(), &number, sid, &state.node), &state.clock.now_rfc3339())
            .await
            .unwrap();
    server::db::calls::mark_answered(&state.db, &call.id, &state.node, &state.clock.now_rfc3339()).await.unwrap();
    server::db::turns::insert(
        &state.db,
        &server::db::turns::NewTurn {
            call_key: call.id.clone(),
            owner_id: owner.owner.id().to_string(),
            seq: 1,
            role: domain::call::Role::Caller,
            kind: domain::call::TurnKind::Speech,
            text: "What are your opening hours?".into(),
            started_at: state.clock.now_rfc3339(),
            ended_at: state.clock.now_rfc3339(),
            interrupted: false,
            timings: Default::default(),
        },
    )
    .await
    .unwrap();
}

/// Exotel's `start` for call `sid` at 8 kHz, as a WebSocket message.
/// How the server closes `ws` (code, reason), read within 5 s; `None` when it does not.
pub async fn close_of<S>(ws: &mut S) -> Option<(u16, String)>
where
    S: futures_util::Stream<Item = Result<tokio_tungstenite::tungstenite::Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    use futures_util::StreamExt;
    let closed = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while let Some(Ok(m)) = ws.next().await {
            if let tokio_tungstenite::tungstenite::Message::Close(f) = m {
                return f.map(|f| (u16::from(f.code), f.reason.to_string()));
            }
        }
        None
    })
    .await;
    closed.ok().flatten()
}

pub fn start_message(sid: &str) -> tokio_tungstenite::tungstenite::Message {
    let start = serde_json::json!({"event":"start","stream_sid":"MZ1","start":{"stream_sid":"MZ1","call_sid":sid,"account_sid":"AC1","from":"+919876543210","to":"+918047491899","custom_parameters":{},"media_format":{"encoding":"audio/x-raw","sample_rate":"8000","bit_rate":"16"}}});
    tokio_tungstenite::tungstenite::Message::Text(start.to_string().into())
}

/// A Twilio account for tests: its SID and auth token.
pub const TWILIO_SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const TWILIO_TOKEN: &str = "f00dfacef00dfacef00dfacef00dface";

/// A Vonage number (+442079460958) of the benchmarks' account (server::bench::VONAGE_ACCOUNT),
/// streaming at `sample_rate`, linked to `agent_id` when given.
pub async fn vonage_number(
    state: &AppState,
    owner: &server::users::Owner,
    agent_id: Option<&str>,
    sample_rate: u32,
) -> domain::phone_number::PhoneNumberView {
    let input = domain::phone_number::PhoneNumberInput {
        linked_agent_id: agent_id.map(str::to_string),
        ..server::bench::vonage_input(sample_rate)
    };
    server::numbers::create(state, owner, &input).await.expect("vonage number")
}

/// A Plivo number (+14155552671) of the benchmarks' account (server::bench::PLIVO_ACCOUNT),
/// streaming `content_type`, linked to `agent_id` when given.
pub async fn plivo_number(
    state: &AppState,
    owner: &server::users::Owner,
    agent_id: Option<&str>,
    content_type: &str,
) -> domain::phone_number::PhoneNumberView {
    let input = domain::phone_number::PhoneNumberInput {
        linked_agent_id: agent_id.map(str::to_string),
        ..server::bench::plivo_input(content_type)
    };
    server::numbers::create(state, owner, &input).await.expect("plivo number")
}

/// A Twilio number (+14155552671) of account [`TWILIO_SID`], linked to `agent_id` when given.
pub async fn twilio_number(
    state: &AppState,
    owner: &server::users::Owner,
    agent_id: Option<&str>,
    status: &str,
) -> domain::phone_number::PhoneNumberView {
    server::numbers::create(
        state,
        owner,
        &domain::phone_number::PhoneNumberInput {
            phone_number: "+14155552671".into(),
            provider: "twilio".into(),
            twilio_config: Some(domain::phone_number::TwilioConfigInput {
                account_sid: TWILIO_SID.into(),
                auth_token: Some(TWILIO_TOKEN.into()),
            }),
            linked_agent_id: agent_id.map(str::to_string),
            status: Some(status.into()),
            ..Default::default()
        },
    )
    .await
    .expect("twilio number")
}

/// A local provider cloud (server::simulator::cloud) with `accounts`, and a live server whose
/// providers' numbers APIs are that cloud (settings further changed by `change`).
pub async fn cloud_server(
    accounts: Vec<server::simulator::cloud::CloudAccount>,
    change: impl FnOnce(&mut Settings),
) -> (server::simulator::cloud::Cloud, AppState, String) {
    let cloud = server::simulator::cloud::Cloud::new(accounts);
    let api = format!("http://{}", server::simulator::cloud::start(cloud.clone()).await.unwrap());
    let (state, base) = live_server_with(|s| {
        s.provider_apis =
            server::config::providers::ProviderApis { exotel: Some(api.clone()), twilio: api.clone(), vonage: api.clone(), plivo: api };
        change(s);
    })
    .await;
    (cloud, state, base)
}

/// GETs `path` from `base` with `token` and reads its JSON.
pub async fn get_json(base: &str, token: &str, path: &str) -> serde_json::Value {
    reqwest::Client::new().get(format!("{base}{path}")).bearer_auth(token).send().await.unwrap().json().await.unwrap()
}
