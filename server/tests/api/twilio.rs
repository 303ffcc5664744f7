//! Twilio's requests to our voice webhook, status callback and Media Stream, over real HTTP and
//! WebSocket on a real database: signatures checked before anything is written, TwiML answers,
//! the per-call stream token, and Twilio numbers through the REST API.

use crate::common::{self, TWILIO_SID, TWILIO_TOKEN};

use domain::call::CallStatus;
use domain::phone_number::Provider;
use futures_util::SinkExt;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use server::AppState;
use server::telephony::token;
use server::telephony::twilio::{media, signature};
use tokio_tungstenite::tungstenite::Message;

struct Line {
    state: AppState,
    base: String,
    id: String,
    webhook: String,
    owner: server::users::Owner,
}

async fn line(status: &str) -> Line {
    let (state, base) = common::live_server().await;
    let user = common::user(&state, "tw@example.com").await;
    let agent = server::agents::create(
        &state,
        &user.owner,
        domain::agent::AgentInput { name: "Desk".into(), greeting: "Hello & welcome".into(), ..Default::default() },
    )
    .await
    .unwrap();
    let number = common::twilio_number(&state, &user.owner, Some(&agent.id), status).await;
    Line { state, base, id: number.id, webhook: number.webhook_url, owner: user.owner }
}

fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn call_form(sid: &str) -> Vec<(String, String)> {
    form(&[
        ("CallSid", sid),
        ("AccountSid", TWILIO_SID),
        ("From", "+14155550100"),
        ("To", "+14155552671"),
        ("CallStatus", "ringing"),
        ("Direction", "inbound"),
    ])
}

impl Line {
    async fn calls(&self) -> i64 {
        server::db::calls::count_for_phone(&self.state.db, &self.owner, &self.id).await.unwrap()
    }

    /// Posts `form` to `url`, signed with `auth_token` over `signed_url` (None: unsigned).
    async fn post(&self, url: &str, form: &[(String, String)], signed: Option<(&str, &str)>) -> reqwest::Response {
        let mut req = Client::new().post(url).form(form);
        if let Some((auth_token, signed_url)) = signed {
            req = req.header(signature::HEADER, signature::signature(auth_token, signed_url, form));
        }
        req.send().await.unwrap()
    }

    async fn answer(&self, sid: &str) -> String {
        let res = self.post(&self.webhook, &call_form(sid), Some((TWILIO_TOKEN, &self.webhook))).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/xml"));
        res.text().await.unwrap()
    }
}

#[tokio::test]
async fn a_signed_call_is_answered_with_a_stream_and_recorded_once() {
    let l = line("active").await;
    let xml = l.answer("CA00000000000000000000000000000001").await;
    let (url, params) = server::simulator::stream_of(&xml).expect("a stream");
    assert_eq!(url, format!("{}/api/telephony/twilio/stream/{}", l.base.replace("http://", "ws://"), l.id));
    assert!(!url.contains('?'), "Twilio drops query strings: nothing may depend on one");
    assert!(xml.contains(&format!(r#"statusCallback="{}/api/telephony/twilio/status/{}""#, l.base, l.id)), "{xml}");
    assert!(params.contains_key("agent_id"));
    let now = l.state.clock.now().timestamp();
    let t = params.get(token::PARAMETER).expect("a stream token");
    let number = server::db::phone_numbers::find_for_telephony(&l.state.db, &l.id).await.unwrap().unwrap();
    assert_eq!(token::verify(&number.url_secret, Provider::Twilio, &l.id, "CA00000000000000000000000000000001", Some(t), now), Ok(()));
    // Twilio retries a webhook it did not hear back from: still one call.
    l.answer("CA00000000000000000000000000000001").await;
    assert_eq!(l.calls().await, 1);
    let call = server::db::calls::get_by_key(&l.state.db, "twilio_CA00000000000000000000000000000001").await.unwrap().unwrap();
    assert_eq!((call.status, call.caller.as_deref(), call.provider), (CallStatus::Ringing, Some("+14155550100"), Provider::Twilio));
    // Every parameter Twilio sent is kept.
    let kept: Value = serde_json::from_str(&call.params_json).unwrap();
    assert_eq!(kept["AccountSid"], TWILIO_SID);
}

#[tokio::test]
async fn a_missing_or_wrong_signature_is_refused_with_403_and_writes_nothing() {
    let l = line("active").await;
    let sid = "CA00000000000000000000000000000002";
    let mut extra = call_form(sid);
    extra.push(("NewParam".into(), "added by Twilio".into()));
    let cases: Vec<(&str, reqwest::Response)> = vec![
        ("unsigned", l.post(&l.webhook, &call_form(sid), None).await),
        ("another token", l.post(&l.webhook, &call_form(sid), Some(("0000000000000000000000000000beef", &l.webhook))).await),
        ("another URL", l.post(&l.webhook, &call_form(sid), Some((TWILIO_TOKEN, &format!("{}?x=1", l.webhook)))).await),
        // Signed over a fixed list of parameters, not every one received: refused.
        ("a parameter left out", {
            let sig = signature::signature(TWILIO_TOKEN, &l.webhook, &call_form(sid));
            Client::new().post(&l.webhook).header(signature::HEADER, sig).form(&extra).send().await.unwrap()
        }),
    ];
    for (what, res) in cases {
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{what}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "bad_signature", "{what}: {body}");
    }
    // A body over 64 KiB is refused before its signature is even read.
    let huge = Client::new().post(&l.webhook).header(signature::HEADER, "x").body(vec![b'a'; 70 * 1024]).send().await.unwrap();
    assert_eq!(huge.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(huge.json::<Value>().await.unwrap()["error"]["code"], "body");
    assert_eq!(l.calls().await, 0, "nothing was recorded");
    let number = server::db::phone_numbers::find_for_telephony(&l.state.db, &l.id).await.unwrap().unwrap();
    assert_eq!(number.last_used, None, "nothing was written");
    // A parameter added by Twilio and signed with the rest is fine.
    let res = l.post(&l.webhook, &extra, Some((TWILIO_TOKEN, &l.webhook))).await;
    assert_eq!(res.status(), StatusCode::OK);
    // A signed request that names another account is not this number's.
    let mut other = call_form("CA00000000000000000000000000000003");
    other[1].1 = "ACffffffffffffffffffffffffffffffff".into();
    assert_eq!(l.post(&l.webhook, &other, Some((TWILIO_TOKEN, &l.webhook))).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(l.calls().await, 1);
}

#[tokio::test]
async fn the_json_body_variant_is_checked_by_its_body_hash() {
    let l = line("active").await;
    let body = json!({ "CallSid": "CA00000000000000000000000000000004", "AccountSid": TWILIO_SID, "From": "+14155550100" }).to_string();
    let url = format!("{}?bodySHA256={}", l.webhook, signature::body_sha256(body.as_bytes()));
    let sig = signature::signature(TWILIO_TOKEN, &url, &[]);
    let send = |b: String| {
        Client::new().post(&url).header("content-type", "application/json").header(signature::HEADER, sig.clone()).body(b).send()
    };
    let tampered = body.replace("+14155550100", "+14155550199");
    assert_eq!(send(tampered).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(l.calls().await, 0);
    assert_eq!(send(body).await.unwrap().status(), StatusCode::OK);
    assert_eq!(l.calls().await, 1);
}

#[tokio::test]
async fn an_inactive_number_says_sorry_and_hangs_up() {
    let l = line("inactive").await;
    let xml = l.answer("CA00000000000000000000000000000005").await;
    assert!(server::simulator::stream_of(&xml).is_none(), "{xml}");
    assert!(xml.contains(r#"<Say language="en-US">Sorry, this number is not in service right now. Goodbye.</Say><Hangup/>"#), "{xml}");
    let call = server::db::calls::get_by_key(&l.state.db, "twilio_CA00000000000000000000000000000005").await.unwrap().unwrap();
    assert_eq!(call.status, CallStatus::Rejected);
}

/// Opens the number's stream and sends `connected` and a `start` carrying `stream_token`.
async fn stream_with(l: &Line, call_sid: &str, stream_token: Option<String>) -> Option<(u16, String)> {
    let url = format!("{}/api/telephony/twilio/stream/{}", l.base.replace("http://", "ws://"), l.id);
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let mut custom_parameters = std::collections::BTreeMap::new();
    if let Some(t) = stream_token {
        custom_parameters.insert(token::PARAMETER.to_string(), t);
    }
    let start = media::Start {
        stream_sid: "MZ1".into(),
        call_sid: call_sid.into(),
        account_sid: TWILIO_SID.into(),
        custom_parameters,
        ..Default::default()
    };
    ws.send(Message::text(media::encode_inbound("MZ1", 0, &media::Inbound::Connected))).await.unwrap();
    ws.send(Message::text(media::encode_inbound("MZ1", 1, &media::Inbound::Start(start)))).await.unwrap();
    common::close_of(&mut ws).await
}

#[tokio::test]
async fn a_stream_without_a_valid_token_is_closed_and_writes_nothing() {
    let l = line("active").await;
    let sid = "CA00000000000000000000000000000006";
    l.answer(sid).await;
    let secret = server::db::phone_numbers::find_for_telephony(&l.state.db, &l.id).await.unwrap().unwrap().url_secret;
    let now = l.state.clock.now().timestamp();
    let cases = [
        ("no token", sid, None),
        ("another call's token", sid, Some(token::issue(&secret, Provider::Twilio, &l.id, "CA00000000000000000000000000000007", now))),
        ("an expired token", sid, Some(token::issue(&secret, Provider::Twilio, &l.id, sid, now - 600))),
        ("a forged token", "CA00000000000000000000000000000008", Some(format!("{}.00", now + 60))),
    ];
    for (what, call, t) in cases {
        let closed = stream_with(&l, call, t).await;
        assert_eq!(closed.as_ref().map(|c| c.0), Some(1008), "{what}: {closed:?}");
    }
    // The answered call is still just ringing, and no other call appeared.
    assert_eq!(l.calls().await, 1);
    let call = server::db::calls::get_by_key(&l.state.db, &format!("twilio_{sid}")).await.unwrap().unwrap();
    assert_eq!(call.status, CallStatus::Ringing);
}

#[tokio::test]
async fn the_stream_status_callback_updates_the_call() {
    let l = line("active").await;
    let sid = "CA00000000000000000000000000000009";
    l.answer(sid).await;
    let status_url = format!("{}/api/telephony/twilio/status/{}", l.base, l.id);
    let event = |e: &str| {
        form(&[
            ("AccountSid", TWILIO_SID),
            ("CallSid", sid),
            ("StreamSid", "MZ9"),
            ("StreamEvent", e),
            ("StreamError", "Stream - WebSocket - Connection Refused"),
            ("Timestamp", "2026-12-02T10:00:00Z"),
        ])
    };
    // Unsigned: refused, nothing changes.
    assert_eq!(l.post(&status_url, &event("stream-error"), None).await.status(), StatusCode::FORBIDDEN);
    let key = format!("twilio_{sid}");
    assert_eq!(server::db::calls::get_by_key(&l.state.db, &key).await.unwrap().unwrap().status, CallStatus::Ringing);
    let res = l.post(&status_url, &event("stream-started"), Some((TWILIO_TOKEN, &status_url))).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(server::db::calls::get_by_key(&l.state.db, &key).await.unwrap().unwrap().status, CallStatus::Ringing);
    let res = l.post(&status_url, &event("stream-error"), Some((TWILIO_TOKEN, &status_url))).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let call = server::db::calls::get_by_key(&l.state.db, &key).await.unwrap().unwrap();
    assert_eq!(call.status, CallStatus::Failed);
    assert_eq!(call.reason.as_deref(), Some("Twilio: Stream - WebSocket - Connection Refused"));
    let kept: Value = serde_json::from_str(&call.params_json).unwrap();
    assert_eq!(kept["StreamSid"], "MZ9");
}

#[tokio::test]
async fn twilio_numbers_are_imported_checked_masked_and_unique_per_account() {
    let (state, base) = common::live_server().await;
    let (_, api) = common::user_with_token(&state, "importer@example.com").await;
    let c = Client::new();
    let post = |body: Value| c.post(format!("{base}/api/phone-numbers")).bearer_auth(&api).json(&body).send();
    let good = json!({ "phoneNumber": "+1 415 555 2671", "provider": "twilio", "twilioConfig": { "accountSid": TWILIO_SID, "authToken": TWILIO_TOKEN } });
    // Bad input: a typed error naming the field, and nothing stored.
    let mut bad = good.clone();
    bad["twilioConfig"]["accountSid"] = json!("AC123");
    let res = post(bad).await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["field"], "twilioConfig.accountSid", "{body}");
    let res = post(json!({ "phoneNumber": "+14155552671", "provider": "twilio" })).await.unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["error"]["field"], "twilioConfig");
    // A good one: the token is masked in every read, the card's URL is the voice webhook.
    let res = post(good.clone()).await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    let text = created.to_string();
    assert!(!text.contains(TWILIO_TOKEN), "{text}");
    assert_eq!(created["twilioConfig"]["accountSid"], TWILIO_SID);
    assert!(created["twilioConfig"]["authToken"].as_str().unwrap().ends_with("face"));
    let id = created["id"].as_str().unwrap();
    assert_eq!(created["webhookUrl"], format!("{base}/api/telephony/twilio/voice/{id}"));
    // The same number on the same account again: a conflict; on another account: fine.
    assert_eq!(post(good.clone()).await.unwrap().status(), StatusCode::CONFLICT);
    let mut other = good.clone();
    other["twilioConfig"]["accountSid"] = json!("ACffffffffffffffffffffffffffffffff");
    assert_eq!(post(other).await.unwrap().status(), StatusCode::CREATED);
    // An edit may leave the token empty on the same account, not when the account changes.
    let put = |body: Value| c.put(format!("{base}/api/phone-numbers/{id}")).bearer_auth(&api).json(&body).send();
    let mut same = good.clone();
    same["twilioConfig"]["authToken"] = json!("");
    same["displayName"] = json!("Front desk");
    assert_eq!(put(same.clone()).await.unwrap().status(), StatusCode::OK);
    let mut moved = same.clone();
    moved["twilioConfig"]["accountSid"] = json!("AC11111111111111111111111111111111");
    let res = put(moved).await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.json::<Value>().await.unwrap()["error"]["field"], "twilioConfig.authToken");
    // The stored token still signs: the kept token is the one that checks webhooks.
    let number = server::db::phone_numbers::find_for_telephony(&state.db, id).await.unwrap().unwrap();
    let sealed = number.twilio_auth_token_sealed.expect("sealed token stored");
    assert!(!sealed.contains(TWILIO_TOKEN));
    assert_eq!(state.secret_key().open(server::numbers::TWILIO_TOKEN_CONTEXT, &sealed).unwrap(), TWILIO_TOKEN);
}
