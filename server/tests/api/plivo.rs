//! Plivo's requests to our answer URL, hangup URL, stream status callback and Audio Stream, over
//! real HTTP and WebSocket on a real database: `X-Plivo-Signature-V3` checked before anything is
//! written, Plivo XML answers, the per-call token in the stream URL, and Plivo numbers through
//! the REST API.

use crate::common;

use domain::call::CallStatus;
use domain::phone_number::Provider;
use futures_util::SinkExt;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use server::AppState;
use server::bench::PLIVO_ACCOUNT;
use server::telephony::plivo::{media, signature};
use server::telephony::token;
use tokio_tungstenite::tungstenite::Message;

const AUTH_ID: &str = PLIVO_ACCOUNT.0;
const AUTH_TOKEN: &str = PLIVO_ACCOUNT.1;
const UUID1: &str = "e2a1b2c3-0000-4000-8000-000000000001";

struct Line {
    state: AppState,
    base: String,
    id: String,
    answer_url: String,
    hangup_url: String,
    owner: server::users::Owner,
}

async fn line(status: &str, content_type: &str) -> Line {
    let (state, base) = common::live_server().await;
    let user = common::user(&state, "pl@example.com").await;
    let agent =
        server::agents::create(&state, &user.owner, domain::agent::AgentInput { name: "Desk".into(), ..Default::default() }).await.unwrap();
    let mut number = common::plivo_number(&state, &user.owner, Some(&agent.id), content_type).await;
    if status != "active" {
        let input = domain::phone_number::PhoneNumberInput { status: Some(status.into()), ..server::bench::plivo_input(content_type) };
        number = server::numbers::update(&state, &user.owner, &number.id, &input).await.unwrap();
    }
    Line { state, base, id: number.id, answer_url: number.webhook_url, hangup_url: number.event_url, owner: user.owner }
}

fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn call_form(uuid: &str) -> Vec<(String, String)> {
    form(&[("CallUUID", uuid), ("From", "14155550100"), ("To", "14155552671"), ("Direction", "inbound"), ("CallStatus", "ringing")])
}

/// The V3 headers for a POST of `form` to `url`, signed with `auth_token` and `nonce`.
fn signed(auth_token: &str, url: &str, form: &[(String, String)], nonce: &str) -> [(&'static str, String); 2] {
    let sig = signature::signature(auth_token, &signature::signed_string("POST", url, form), nonce);
    [(signature::HEADER, sig), (signature::NONCE, nonce.to_string())]
}

impl Line {
    async fn calls(&self) -> i64 {
        server::db::calls::count_for_phone(&self.state.db, &self.owner, &self.id).await.unwrap()
    }

    async fn post(&self, url: &str, form: &[(String, String)], headers: &[(&'static str, String)]) -> reqwest::Response {
        let mut req = Client::new().post(url).form(form);
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        req.send().await.unwrap()
    }

    async fn answer(&self, uuid: &str) -> String {
        let f = call_form(uuid);
        let res = self.post(&self.answer_url, &f, &signed(AUTH_TOKEN, &self.answer_url, &f, "05429567804466091622")).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/xml"));
        res.text().await.unwrap()
    }

    async fn call(&self, uuid: &str) -> server::db::calls::CallRow {
        server::db::calls::get_by_key(&self.state.db, &format!("plivo_{uuid}")).await.unwrap().unwrap()
    }
}

/// The `<Stream>` of an answer: its attributes and its URL (the element's text).
fn stream_of(xml: &str) -> Option<(Vec<(String, String)>, String)> {
    let start = xml.find("<Stream ")?;
    let open_end = start + xml[start..].find('>')?;
    let close = xml.find("</Stream>")?;
    let attrs = xml[start + 8..open_end]
        .split("\" ")
        .filter_map(|a| a.split_once("=\""))
        .map(|(k, v)| (k.trim().to_string(), v.trim_end_matches('"').replace("&amp;", "&")))
        .collect();
    Some((attrs, xml[open_end + 1..close].replace("&amp;", "&")))
}

#[tokio::test]
async fn a_signed_call_is_answered_with_a_bidirectional_stream_and_recorded_once() {
    let l = line("active", "audio/x-l16;rate=16000").await;
    let xml = l.answer(UUID1).await;
    let (attrs, url) = stream_of(&xml).expect("a stream");
    let attr = |k: &str| attrs.iter().find(|a| a.0 == k).map(|a| a.1.as_str());
    assert_eq!((attr("bidirectional"), attr("keepCallAlive")), (Some("true"), Some("true")), "{xml}");
    assert_eq!(attr("contentType"), Some("audio/x-l16;rate=16000"), "the number's format");
    assert_eq!(attr("statusCallbackUrl").map(str::to_string), Some(format!("{}/api/telephony/plivo/status/{}", l.base, l.id)));
    assert!(xml.trim_end().ends_with("</Stream></Response>"), "nothing after the stream: {xml}");
    let ws = format!("{}/api/telephony/plivo/stream/{}?{}=", l.base.replace("http://", "ws://"), l.id, token::PARAMETER);
    let t = url.strip_prefix(&ws).unwrap_or_else(|| panic!("{url}"));
    let number = server::db::phone_numbers::find_for_telephony(&l.state.db, &l.id).await.unwrap().unwrap();
    let now = l.state.clock.now().timestamp();
    assert_eq!(token::verify(&number.url_secret, Provider::Plivo, &l.id, UUID1, Some(t), now), Ok(()));
    l.answer(UUID1).await;
    assert_eq!(l.calls().await, 1, "a retried answer URL is still one call");
    let call = l.call(UUID1).await;
    assert_eq!((call.status, call.caller.as_deref(), call.provider), (CallStatus::Ringing, Some("+14155550100"), Provider::Plivo));
}

/// What a refused request was, its form and its headers.
type Case = (&'static str, Vec<(String, String)>, Vec<(&'static str, String)>);

#[tokio::test]
async fn a_missing_or_wrong_signature_is_refused_with_403_and_writes_nothing() {
    let l = line("active", "audio/x-mulaw;rate=8000").await;
    let uuid = "e2a1b2c3-0000-4000-8000-000000000002";
    let f = call_form(uuid);
    let mut extra = f.clone();
    extra.push(("Added".into(), "by someone else".into()));
    let good = signed(AUTH_TOKEN, &l.answer_url, &f, "111");
    let cases: Vec<Case> = vec![
        ("unsigned", f.clone(), vec![]),
        ("no nonce", f.clone(), vec![good[0].clone()]),
        ("another token", f.clone(), signed("AnotherPlivoToken000000000000000000000000", &l.answer_url, &f, "111").to_vec()),
        ("another URL", f.clone(), signed(AUTH_TOKEN, &format!("{}?x=1", l.answer_url), &f, "111").to_vec()),
        ("another nonce", f.clone(), vec![good[0].clone(), (signature::NONCE, "222".into())]),
        ("a parameter not signed", extra, good.to_vec()),
    ];
    for (what, body, headers) in cases {
        let res = l.post(&l.answer_url, &body, &headers).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{what}");
        assert_eq!(res.json::<Value>().await.unwrap()["error"]["code"], "bad_signature", "{what}");
    }
    assert_eq!(l.calls().await, 0, "nothing was recorded");
    let number = server::db::phone_numbers::find_for_telephony(&l.state.db, &l.id).await.unwrap().unwrap();
    assert_eq!(number.last_used, None, "nothing was written");
    // Several signatures in the header (a token being rotated): one good one is enough.
    let mut rotated = good.clone();
    rotated[0].1 = format!("bm90IHRoaXMgb25l,{}", good[0].1);
    assert_eq!(l.post(&l.answer_url, &f, &rotated).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_inactive_number_says_sorry_and_hangs_up() {
    let l = line("inactive", "audio/x-mulaw;rate=8000").await;
    let xml = l.answer(UUID1).await;
    assert!(stream_of(&xml).is_none(), "{xml}");
    assert!(xml.contains(r#"<Speak language="en-US">Sorry, this number is not in service right now. Goodbye.</Speak><Hangup/>"#), "{xml}");
    assert_eq!(l.call(UUID1).await.status, CallStatus::Rejected);
}

/// Opens the number's stream with `stream_token` in its URL and sends `start` for `call_id`.
async fn stream_with(l: &Line, call_id: &str, stream_token: Option<String>, account: &str) -> Option<(u16, String)> {
    let mut url = format!("{}/api/telephony/plivo/stream/{}", l.base.replace("http://", "ws://"), l.id);
    if let Some(t) = stream_token {
        url = format!("{url}?{}={t}", token::PARAMETER);
    }
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let start = media::Start {
        call_id: call_id.into(),
        stream_id: "87654321-4321-4321-4321-cba987654321".into(),
        account_id: account.into(),
        tracks: vec!["inbound".into()],
        encoding: Some("audio/x-mulaw".into()),
        sample_rate: Some(8000),
        extra_headers: None,
    };
    ws.send(Message::text(media::encode_inbound(1, &media::Inbound::Start(start)))).await.unwrap();
    common::close_of(&mut ws).await
}

#[tokio::test]
async fn a_stream_without_a_valid_token_is_closed_and_writes_nothing() {
    let l = line("active", "audio/x-mulaw;rate=8000").await;
    l.answer(UUID1).await;
    let secret = server::db::phone_numbers::find_for_telephony(&l.state.db, &l.id).await.unwrap().unwrap().url_secret;
    let now = l.state.clock.now().timestamp();
    let good = token::issue(&secret, Provider::Plivo, &l.id, UUID1, now);
    let cases = [
        ("no token", UUID1, None, AUTH_ID),
        ("another call's token", "e2a1b2c3-0000-4000-8000-000000000009", Some(good.clone()), AUTH_ID),
        ("an expired token", UUID1, Some(token::issue(&secret, Provider::Plivo, &l.id, UUID1, now - 600)), AUTH_ID),
        ("another account", UUID1, Some(good), "MA99999999999999999999"),
    ];
    for (what, call, t, account) in cases {
        let closed = stream_with(&l, call, t, account).await;
        assert_eq!(closed.as_ref().map(|c| c.0), Some(1008), "{what}: {closed:?}");
    }
    assert_eq!(l.calls().await, 1);
    assert_eq!(l.call(UUID1).await.status, CallStatus::Ringing, "the answered call is untouched");
}

#[tokio::test]
async fn hangup_and_stream_status_callbacks_update_the_call() {
    let l = line("active", "audio/x-mulaw;rate=8000").await;
    l.answer(UUID1).await;
    let hangup = form(&[("CallUUID", UUID1), ("CallStatus", "completed"), ("HangupCause", "NORMAL_CLEARING"), ("Duration", "42")]);
    assert_eq!(l.post(&l.hangup_url, &hangup, &[]).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(l.call(UUID1).await.status, CallStatus::Ringing);
    let res = l.post(&l.hangup_url, &hangup, &signed(AUTH_TOKEN, &l.hangup_url, &hangup, "7")).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let call = l.call(UUID1).await;
    assert_eq!(call.status, CallStatus::Completed);
    assert_eq!(serde_json::from_str::<Value>(&call.params_json).unwrap()["HangupCause"], "NORMAL_CLEARING");
    // A stream Plivo could not keep up fails its call.
    let dropped = "e2a1b2c3-0000-4000-8000-000000000004";
    l.answer(dropped).await;
    let status_url = format!("{}/api/telephony/plivo/status/{}", l.base, l.id);
    for (event, expected) in [("StartStream", CallStatus::Ringing), ("DroppedStream", CallStatus::Failed)] {
        let f = form(&[("CallUUID", dropped), ("Event", event), ("StreamID", "s1")]);
        assert_eq!(l.post(&status_url, &f, &signed(AUTH_TOKEN, &status_url, &f, "8")).await.status(), StatusCode::NO_CONTENT);
        assert_eq!(l.call(dropped).await.status, expected, "{event}");
    }
    assert_eq!(l.call(dropped).await.reason.as_deref(), Some("Plivo: stream dropped"));
}

#[tokio::test]
async fn a_16_khz_linear_number_streams_16_khz_audio_both_ways() {
    let _serial = common::voice_lock().await;
    let l = line("active", "audio/x-l16;rate=16000").await;
    let mut opts = server::bench::bench_call(Provider::Plivo, &l.answer_url, vec![server::simulator::Step::WaitReply]);
    opts.rate = Some(16_000);
    let report = server::simulator::run(opts).await.expect("the call runs");
    assert_eq!(report.rate, 16_000);
    assert!(report.greeting_audio_ms > 1000.0, "{report:?}");
    assert_eq!((report.bad_chunks, report.bad_frames), (0, 0));
}

#[tokio::test]
async fn plivo_numbers_are_imported_checked_masked_and_unique_per_account() {
    let (state, base) = common::live_server().await;
    let (_, api) = common::user_with_token(&state, "pimporter@example.com").await;
    let c = Client::new();
    let post = |body: Value| c.post(format!("{base}/api/phone-numbers")).bearer_auth(&api).json(&body).send();
    let good =
        json!({ "phoneNumber": "+1 415 555 2671", "provider": "plivo", "plivoConfig": { "authId": AUTH_ID, "authToken": AUTH_TOKEN } });
    for (field, value) in [("authId", json!("XX123")), ("authToken", json!("short")), ("contentType", json!("audio/wav"))] {
        let mut bad = good.clone();
        bad["plivoConfig"][field] = value;
        let res = post(bad).await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{field}");
        assert_eq!(res.json::<Value>().await.unwrap()["error"]["field"], format!("plivoConfig.{field}"));
    }
    let res = post(good.clone()).await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    assert!(!created.to_string().contains(AUTH_TOKEN), "{created}");
    assert_eq!(created["plivoConfig"]["contentType"], "audio/x-mulaw;rate=8000");
    assert!(created["plivoConfig"]["authToken"].as_str().unwrap().ends_with("bec4"));
    let id = created["id"].as_str().unwrap();
    assert_eq!(created["webhookUrl"], format!("{base}/api/telephony/plivo/answer/{id}"));
    assert_eq!(created["eventUrl"], format!("{base}/api/telephony/plivo/hangup/{id}"));
    assert_eq!(post(good.clone()).await.unwrap().status(), StatusCode::CONFLICT);
    let put = |body: Value| c.put(format!("{base}/api/phone-numbers/{id}")).bearer_auth(&api).json(&body).send();
    let mut same = good.clone();
    same["plivoConfig"]["authToken"] = json!("");
    assert_eq!(put(same.clone()).await.unwrap().status(), StatusCode::OK);
    let mut moved = same;
    moved["plivoConfig"]["authId"] = json!("SA0000000000000000AB");
    let res = put(moved).await.unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["error"]["field"], "plivoConfig.authToken");
    // Moving the number to Twilio drops Plivo's token.
    let twilio = json!({ "phoneNumber": "+14155552671", "provider": "twilio", "twilioConfig": { "accountSid": common::TWILIO_SID, "authToken": common::TWILIO_TOKEN } });
    assert_eq!(put(twilio).await.unwrap().status(), StatusCode::OK);
    let number = server::db::phone_numbers::find_for_telephony(&state.db, id).await.unwrap().unwrap();
    assert_eq!((number.plivo_auth_token_sealed, number.plivo_auth_token_last4), (None, None));
}
