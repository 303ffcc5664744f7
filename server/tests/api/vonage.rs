//! Vonage's requests to our answer URL, event URL and WebSocket, over real HTTP and WebSocket on
//! a real database: webhook JWTs checked before anything is written, NCCO answers, the
//! per-call stream token in the endpoint's headers, and Vonage numbers through the REST API.

use crate::common;

use domain::call::CallStatus;
use domain::phone_number::Provider;
use futures_util::SinkExt;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use server::AppState;
use server::bench::VONAGE_ACCOUNT as ACCOUNT;
use server::telephony::token;
use server::telephony::vonage::{media, signature};
use tokio_tungstenite::tungstenite::Message;

struct Line {
    state: AppState,
    base: String,
    id: String,
    answer_url: String,
    event_url: String,
    owner: server::users::Owner,
}

async fn line(status: &str, sample_rate: u32) -> Line {
    let (state, base) = common::live_server().await;
    let user = common::user(&state, "vg@example.com").await;
    let agent =
        server::agents::create(&state, &user.owner, domain::agent::AgentInput { name: "Desk".into(), ..Default::default() }).await.unwrap();
    let mut number = common::vonage_number(&state, &user.owner, Some(&agent.id), sample_rate).await;
    if status != "active" {
        let input = domain::phone_number::PhoneNumberInput { status: Some(status.into()), ..server::bench::vonage_input(sample_rate) };
        number = server::numbers::update(&state, &user.owner, &number.id, &input).await.unwrap();
    }
    Line { state, base, id: number.id, answer_url: number.webhook_url, event_url: number.event_url, owner: user.owner }
}

/// A webhook token as Vonage signs it, over `body`, `age` seconds old.
fn jwt(secret: &str, api_key: &str, body: &[u8], age: i64) -> String {
    let claims = signature::Claims {
        iat: chrono::Utc::now().timestamp() - age,
        jti: format!("jti-{age}-{}", body.len()),
        iss: signature::ISSUER.into(),
        payload_hash: Some(signature::payload_hash(body)),
        api_key: Some(api_key.into()),
        application_id: Some(ACCOUNT.application_id.into()),
    };
    format!("Bearer {}", signature::sign(secret, &claims))
}

fn query(uuid: &str) -> String {
    format!("to=442079460958&from=447700900100&uuid={uuid}&conversation_uuid=CON-{uuid}&endpoint_type=phone")
}

impl Line {
    async fn calls(&self) -> i64 {
        server::db::calls::count_for_phone(&self.state.db, &self.owner, &self.id).await.unwrap()
    }

    /// GETs the answer URL for call `uuid` with `authorization` (None: unsigned).
    async fn get(&self, uuid: &str, authorization: Option<String>) -> reqwest::Response {
        let mut req = Client::new().get(format!("{}?{}", self.answer_url, query(uuid)));
        if let Some(a) = authorization {
            req = req.header("authorization", a);
        }
        req.send().await.unwrap()
    }

    async fn answer(&self, uuid: &str) -> Value {
        let res = self.get(uuid, Some(jwt(ACCOUNT.signature_secret, ACCOUNT.api_key, b"", 0))).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-type"], "application/json");
        res.json().await.unwrap()
    }

    /// POSTs the JSON `event` to the event URL, signed with `secret` (None: unsigned).
    async fn event(&self, event: &Value, secret: Option<&str>) -> StatusCode {
        let body = event.to_string();
        let mut req = Client::new().post(&self.event_url).header("content-type", "application/json");
        if let Some(s) = secret {
            req = req.header("authorization", jwt(s, ACCOUNT.api_key, body.as_bytes(), 0));
        }
        req.body(body).send().await.unwrap().status()
    }

    async fn call(&self, uuid: &str) -> server::db::calls::CallRow {
        server::db::calls::get_by_key(&self.state.db, &format!("vonage_{uuid}")).await.unwrap().unwrap()
    }
}

const UUID1: &str = "aaaaaaaa-0000-4000-8000-000000000001";

#[tokio::test]
async fn a_signed_call_is_answered_with_an_ncco_and_recorded_once() {
    let l = line("active", 16_000).await;
    let ncco = l.answer(UUID1).await;
    let connect = &ncco[0];
    assert_eq!((connect["action"].as_str(), connect["eventType"].as_str()), (Some("connect"), Some("synchronous")));
    assert_eq!(connect["eventUrl"], json!([format!("{}/api/telephony/vonage/event/{}", l.base, l.id)]));
    let endpoint = &connect["endpoint"][0];
    assert_eq!(endpoint["type"], "websocket");
    assert_eq!(endpoint["uri"], format!("{}/api/telephony/vonage/stream/{}", l.base.replace("http://", "ws://"), l.id));
    assert_eq!(endpoint["content-type"], "audio/l16;rate=16000", "the hyphenated key Vonage reads");
    assert_eq!(endpoint["headers"]["call_uuid"], UUID1);
    assert!(endpoint["headers"].to_string().len() < 512, "Vonage's header limit");
    let t = endpoint["headers"][token::PARAMETER].as_str().expect("a stream token");
    let number = server::db::phone_numbers::find_for_telephony(&l.state.db, &l.id).await.unwrap().unwrap();
    let now = l.state.clock.now().timestamp();
    assert_eq!(token::verify(&number.url_secret, Provider::Vonage, &l.id, UUID1, Some(t), now), Ok(()));
    // Vonage retries an answer URL that timed out: still one call.
    l.answer(UUID1).await;
    assert_eq!(l.calls().await, 1);
    let call = l.call(UUID1).await;
    assert_eq!((call.status, call.caller.as_deref(), call.provider), (CallStatus::Ringing, Some("+447700900100"), Provider::Vonage));
    let kept: Value = serde_json::from_str(&call.params_json).unwrap();
    assert_eq!(kept["conversation_uuid"], format!("CON-{UUID1}"));
}

#[tokio::test]
async fn a_missing_or_wrong_jwt_is_refused_with_403_and_writes_nothing() {
    let l = line("active", 16_000).await;
    let uuid = "aaaaaaaa-0000-4000-8000-000000000002";
    let cases = [
        ("unsigned", None),
        ("another secret", Some(jwt("another-signature-secret-000000", ACCOUNT.api_key, b"", 0))),
        ("another account", Some(jwt(ACCOUNT.signature_secret, "ffff0000", b"", 0))),
        ("stale", Some(jwt(ACCOUNT.signature_secret, ACCOUNT.api_key, b"", 3600))),
        ("not a bearer token", Some(format!("Basic {}", ACCOUNT.signature_secret))),
    ];
    for (what, authorization) in cases {
        let res = l.get(uuid, authorization).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{what}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "bad_signature", "{what}: {body}");
        assert!(!body.to_string().contains(ACCOUNT.signature_secret), "{what}: the secret is never echoed");
    }
    // A POSTed body other than the one signed (its payload_hash) is refused too.
    let signed = json!({ "uuid": uuid, "from": "447700900100", "to": "442079460958" }).to_string();
    let tampered = signed.replace("447700900100", "447700900199");
    let res = Client::new()
        .post(&l.answer_url)
        .header("content-type", "application/json")
        .header("authorization", jwt(ACCOUNT.signature_secret, ACCOUNT.api_key, signed.as_bytes(), 0))
        .body(tampered)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(l.calls().await, 0, "nothing was recorded");
    let number = server::db::phone_numbers::find_for_telephony(&l.state.db, &l.id).await.unwrap().unwrap();
    assert_eq!(number.last_used, None, "nothing was written");
}

#[tokio::test]
async fn an_inactive_number_says_sorry_and_the_ncco_ends() {
    let l = line("inactive", 16_000).await;
    let ncco = l.answer(UUID1).await;
    assert_eq!(
        ncco,
        json!([{ "action": "talk", "text": "Sorry, this number is not in service right now. Goodbye.", "language": "en-US" }])
    );
    assert_eq!(l.call(UUID1).await.status, CallStatus::Rejected);
}

/// Opens the number's WebSocket and sends `websocket:connected` with `headers` at `content_type`.
async fn stream_with(l: &Line, content_type: &str, headers: &[(&str, String)]) -> Option<(u16, String)> {
    let url = format!("{}/api/telephony/vonage/stream/{}", l.base.replace("http://", "ws://"), l.id);
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let connected = media::Connected {
        content_type: Some(content_type.into()),
        headers: headers.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
    };
    // Vonage may send audio before the connected message: tolerated.
    ws.send(Message::binary(vec![0u8; 640])).await.unwrap();
    let server::telephony::stream::WireOut::Text(first) = media::encode_inbound(&media::Inbound::Connected(connected)) else {
        panic!("connected is a text message")
    };
    ws.send(Message::text(first)).await.unwrap();
    common::close_of(&mut ws).await
}

#[tokio::test]
async fn a_stream_without_a_valid_token_or_at_another_rate_is_closed_and_writes_nothing() {
    let l = line("active", 16_000).await;
    l.answer(UUID1).await;
    let secret = server::db::phone_numbers::find_for_telephony(&l.state.db, &l.id).await.unwrap().unwrap().url_secret;
    let now = l.state.clock.now().timestamp();
    let good = token::issue(&secret, Provider::Vonage, &l.id, UUID1, now);
    let other = "aaaaaaaa-0000-4000-8000-000000000009";
    let cases = [
        ("no token", vec![("call_uuid", UUID1.to_string())], 1008),
        (
            "another call's token",
            vec![("call_uuid", UUID1.to_string()), (token::PARAMETER, token::issue(&secret, Provider::Vonage, &l.id, other, now))],
            1008,
        ),
        (
            "Twilio's token for the call",
            vec![("call_uuid", UUID1.to_string()), (token::PARAMETER, token::issue(&secret, Provider::Twilio, &l.id, UUID1, now))],
            1008,
        ),
        (
            "an expired token",
            vec![("call_uuid", UUID1.to_string()), (token::PARAMETER, token::issue(&secret, Provider::Vonage, &l.id, UUID1, now - 600))],
            1008,
        ),
        ("no call", vec![(token::PARAMETER, good.clone())], 1008),
    ];
    for (what, headers, code) in cases {
        let closed = stream_with(&l, "audio/l16;rate=16000", &headers).await;
        assert_eq!(closed.as_ref().map(|c| c.0), Some(code), "{what}: {closed:?}");
    }
    // The right token at a rate the NCCO did not ask for: refused as unsupported.
    let closed = stream_with(&l, "audio/l16;rate=8000", &[("call_uuid", UUID1.to_string()), (token::PARAMETER, good)]).await;
    assert_eq!(closed.as_ref().map(|c| c.0), Some(1003), "{closed:?}");
    assert_eq!(l.calls().await, 1);
    assert_eq!(l.call(UUID1).await.status, CallStatus::Ringing, "the answered call is untouched");
}

#[tokio::test]
async fn events_update_the_call_and_unsigned_ones_change_nothing() {
    let l = line("active", 16_000).await;
    l.answer(UUID1).await;
    let event = |status: &str| json!({ "uuid": UUID1, "conversation_uuid": format!("CON-{UUID1}"), "status": status, "direction": "inbound", "timestamp": "2026-12-02T10:00:00.000Z" });
    assert_eq!(l.event(&event("completed"), None).await, StatusCode::FORBIDDEN);
    assert_eq!(l.event(&event("completed"), Some("another-signature-secret-000000")).await, StatusCode::FORBIDDEN);
    assert_eq!(l.call(UUID1).await.status, CallStatus::Ringing);
    assert_eq!(l.event(&event("answered"), Some(ACCOUNT.signature_secret)).await, StatusCode::NO_CONTENT);
    assert_eq!(l.call(UUID1).await.status, CallStatus::Ringing);
    // The WebSocket leg's own event names the call in the headers we gave it.
    let leg = json!({ "uuid": "bbbbbbbb-0000-4000-8000-000000000001", "to": "wss://example/ws", "status": "disconnected", "headers": { "call_uuid": UUID1 } });
    assert_eq!(l.event(&leg, Some(ACCOUNT.signature_secret)).await, StatusCode::NO_CONTENT);
    assert_eq!(l.calls().await, 1, "the leg's event is kept on the call, not a new call");
    assert_eq!(l.event(&event("completed"), Some(ACCOUNT.signature_secret)).await, StatusCode::NO_CONTENT);
    let call = l.call(UUID1).await;
    assert_eq!(call.status, CallStatus::Completed);
    let kept: Value = serde_json::from_str(&call.params_json).unwrap();
    assert_eq!(kept["timestamp"], "2026-12-02T10:00:00.000Z");
    // A call that never connected fails with Vonage's word for it.
    let busy = "aaaaaaaa-0000-4000-8000-000000000003";
    l.answer(busy).await;
    let mut e = event("busy");
    e["uuid"] = json!(busy);
    assert_eq!(l.event(&e, Some(ACCOUNT.signature_secret)).await, StatusCode::NO_CONTENT);
    let call = l.call(busy).await;
    assert_eq!((call.status, call.reason.as_deref()), (CallStatus::Failed, Some("Vonage: busy")));
}

#[tokio::test]
async fn an_8_khz_number_streams_whole_20_ms_frames_at_8_khz() {
    let _serial = common::voice_lock().await;
    let l = line("active", 8000).await;
    let mut opts = server::bench::bench_call(Provider::Vonage, &l.answer_url, vec![server::simulator::Step::WaitReply]);
    opts.rate = Some(8000);
    let report = server::simulator::run(opts).await.expect("the call runs");
    assert_eq!(report.rate, 8000);
    assert!(report.greeting_audio_ms > 1000.0, "{report:?}");
    assert_eq!((report.bad_chunks, report.bad_frames), (0, 0), "every message is one 320-byte frame");
    assert!(report.media_frames as f64 >= report.greeting_audio_ms / 20.0 - 1.0, "{report:?}");
}

#[tokio::test]
async fn vonage_numbers_are_imported_checked_masked_and_unique_per_account() {
    let (state, base) = common::live_server().await;
    let (_, api) = common::user_with_token(&state, "vimporter@example.com").await;
    let c = Client::new();
    let post = |body: Value| c.post(format!("{base}/api/phone-numbers")).bearer_auth(&api).json(&body).send();
    let good = json!({ "phoneNumber": "+44 20 7946 0958", "provider": "vonage", "vonageConfig": {
        "apiKey": ACCOUNT.api_key, "apiSecret": ACCOUNT.api_secret, "applicationId": ACCOUNT.application_id,
        "privateKey": ACCOUNT.private_key, "signatureSecret": ACCOUNT.signature_secret } });
    for (field, value) in [
        ("applicationId", json!("not-a-uuid")),
        ("privateKey", json!("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----")),
        ("sampleRate", json!(44100)),
        ("signatureSecret", json!("short")),
    ] {
        let mut bad = good.clone();
        bad["vonageConfig"][field] = value;
        let res = post(bad).await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{field}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["field"], format!("vonageConfig.{field}"), "{body}");
    }
    let res = post(good.clone()).await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    let text = created.to_string();
    for secret in [ACCOUNT.api_secret, ACCOUNT.signature_secret, "PRIVATE KEY"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    let v = &created["vonageConfig"];
    assert_eq!((v["apiKey"].as_str(), v["sampleRate"].as_u64()), (Some(ACCOUNT.api_key), Some(16_000)));
    assert!(v["signatureSecret"].as_str().unwrap().ends_with("bec4"));
    let id = created["id"].as_str().unwrap();
    assert_eq!(created["webhookUrl"], format!("{base}/api/telephony/vonage/answer/{id}"));
    assert_eq!(created["eventUrl"], format!("{base}/api/telephony/vonage/event/{id}"));
    assert_eq!(post(good.clone()).await.unwrap().status(), StatusCode::CONFLICT);
    // An edit may leave the secrets empty on the same account, not when the API key changes.
    let put = |body: Value| c.put(format!("{base}/api/phone-numbers/{id}")).bearer_auth(&api).json(&body).send();
    let mut same = good.clone();
    for k in ["apiSecret", "privateKey", "signatureSecret"] {
        same["vonageConfig"][k] = json!("");
    }
    same["vonageConfig"]["sampleRate"] = json!(8000);
    let res = put(same.clone()).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["vonageConfig"]["sampleRate"], 8000);
    let mut moved = same.clone();
    moved["vonageConfig"]["apiKey"] = json!("ffff0000");
    assert_eq!(put(moved).await.unwrap().status(), StatusCode::BAD_REQUEST);
    let number = server::db::phone_numbers::find_for_telephony(&state.db, id).await.unwrap().unwrap();
    let sealed = number.vonage_signature_secret_sealed.expect("sealed secret stored");
    assert_eq!(state.secret_key().open(server::numbers::VONAGE_SIGNATURE_CONTEXT, &sealed).unwrap(), ACCOUNT.signature_secret);
}
