//! Exotel's calls to our answer webhook and Voicebot URL, over real HTTP on a real database.

use crate::common;

use domain::call::CallStatus;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use server::AppState;

struct Setup {
    base: String,
    state: AppState,
    c: Client,
    id: String,
    /// Path and query of the number's webhook URL (with its key).
    webhook: String,
    voicebot: String,
    owner: server::users::Owner,
}

async fn setup(status: &str, link_agent: bool) -> Setup {
    setup_on(common::state().await, status, link_agent).await
}

async fn setup_on(state: AppState, status: &str, link_agent: bool) -> Setup {
    let user = common::user(&state, "ana@example.com").await;
    let agent = server::agents::create(
        &state,
        &user.owner,
        domain::agent::AgentInput {
            name: "Desk".into(),
            language: "hi".into(),
            greeting: "Namaste & welcome <friend>".into(),
            providers: domain::agent::Providers {
                stt: "openai".into(),
                base_url: "https://api.openai.com/v1".into(),
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let number = server::numbers::create(
        &state,
        &user.owner,
        &domain::phone_number::PhoneNumberInput {
            phone_number: "+918047491899".into(),
            provider: "other".into(),
            linked_agent_id: link_agent.then(|| agent.id.clone()),
            status: Some(status.into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let strip = |url: &str| url.trim_start_matches("http://127.0.0.1:0").to_string();
    Setup {
        base: common::serve(state.clone()).await,
        c: Client::new(),
        id: number.id.clone(),
        webhook: strip(&number.webhook_url),
        voicebot: strip(&number.voicebot_url),
        state,
        owner: user.owner,
    }
}

impl Setup {
    async fn calls(&self) -> i64 {
        // Answers sent while other calls were being written did not wait for their rows.
        self.state.call_writer.flush().await;
        server::db::calls::count_for_phone(&self.state.db, &self.owner, &self.id).await.unwrap()
    }
    async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.c.post(format!("{}{path}", self.base)).form(form).send().await.unwrap()
    }
}

#[tokio::test]
async fn a_call_is_answered_with_escaped_xml_and_recorded_once() {
    let s = setup("active", true).await;
    let form = [("CallSid", "CA100"), ("From", "+919876543210"), ("To", "+918047491899"), ("Direction", "incoming"), ("FooBar", "kept")];
    let res = s.post_form(&s.webhook, &form).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/xml"));
    let xml = res.text().await.unwrap();
    // The stream speaks the greeting (cached audio); the answer connects it straight away.
    assert!(xml.contains("<Response><Connect><Stream url="), "{xml}");
    assert!(!xml.contains("<Say"), "{xml}");
    assert!(xml.contains(&format!("/api/telephony/ws/{}?key=", s.id)), "{xml}");
    assert!(xml.contains("session=CA100"), "{xml}");
    assert!(xml.contains(r#"<Parameter name="session_id" value="CA100"/>"#), "{xml}");

    let call = server::db::calls::get_by_key(&s.state.db, "exotel_CA100").await.unwrap().unwrap();
    assert_eq!(call.status, CallStatus::Ringing);
    assert_eq!(call.session_id, "CA100");
    assert_eq!(call.caller.as_deref(), Some("+919876543210"));
    let params: Value = serde_json::from_str(&call.params_json).unwrap();
    assert_eq!(params["FooBar"], "kept", "unknown fields are kept");
    assert!(params.get("key").is_none(), "our secret is not stored as a provider parameter");
    let number: Value = server::db::row(&s.state.db, "SELECT last_used FROM phone_number", json!({})).await.unwrap().unwrap();
    assert!(number["last_used"].is_string(), "last used is updated");

    // A retried webhook answers the same and records nothing new.
    let again = s.post_form(&s.webhook, &form).await.text().await.unwrap();
    assert_eq!(again, xml);
    assert_eq!(s.calls().await, 1);

    // JSON bodies and GET query parameters work too.
    let json_res =
        s.c.post(format!("{}{}", s.base, s.webhook)).json(&json!({ "CallSid": "CA101", "CallFrom": "0987" })).send().await.unwrap();
    assert_eq!(json_res.status(), StatusCode::OK);
    let get_res = s.c.get(format!("{}{}&CallSid=CA102&From=%2B911", s.base, s.webhook)).send().await.unwrap();
    assert_eq!(get_res.status(), StatusCode::OK);
    assert_eq!(s.calls().await, 3);
}

#[tokio::test]
async fn verification_get_reports_the_number_without_secrets() {
    let s = setup("active", true).await;
    let res = s.c.get(format!("{}{}", s.base, s.webhook)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["found"], true);
    assert_eq!(body["active"], true);
    assert_eq!(body["agent"]["name"], "Desk");
    let ws = body["websocketUrl"].as_str().unwrap();
    assert!(ws.contains(&format!("/api/telephony/ws/{}?sample-rate=8000", s.id)), "{ws}");
    assert!(!body.to_string().contains("key="), "{body}");
    assert_eq!(s.calls().await, 0);
}

#[tokio::test]
async fn wrong_key_unknown_number_and_bad_input_are_refused_and_write_nothing() {
    let s = setup("active", true).await;
    let wrong_key = s.webhook.split("?key=").next().unwrap().to_string() + "?key=guessed";
    let res = s.post_form(&wrong_key, &[("CallSid", "CA1")]).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.json::<Value>().await.unwrap()["error"]["code"], "bad_key");
    let no_key = s.webhook.split('?').next().unwrap().to_string();
    assert_eq!(s.post_form(&no_key, &[("CallSid", "CA1")]).await.status(), StatusCode::UNAUTHORIZED);
    let res = s.post_form("/api/telephony/webhook/nosuchnumber?key=x", &[("CallSid", "CA1")]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    let missing = s.post_form(&s.webhook, &[("From", "+91")]).await;
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    assert_eq!(missing.json::<Value>().await.unwrap()["error"]["field"], "CallSid");
    let malformed =
        s.c.post(format!("{}{}", s.base, s.webhook)).header("content-type", "application/json").body("{oops").send().await.unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(malformed.json::<Value>().await.unwrap()["error"]["field"], "body");
    let huge = s.c.post(format!("{}{}", s.base, s.webhook)).body(vec![b'a'; 200_000]).send().await.unwrap();
    assert_eq!(huge.status(), StatusCode::PAYLOAD_TOO_LARGE);

    assert_eq!(s.calls().await, 0);
    let number: Value = server::db::row(&s.state.db, "SELECT last_used FROM phone_number", json!({})).await.unwrap().unwrap();
    assert!(number["last_used"].is_null(), "nothing written: {number}");
}

#[tokio::test]
async fn an_inactive_number_says_not_in_service_and_logs_a_rejected_call() {
    let s = setup("inactive", true).await;
    let xml = s.post_form(&s.webhook, &[("CallSid", "CA200")]).await.text().await.unwrap();
    assert!(xml.contains("<Hangup/>"), "{xml}");
    assert!(!xml.contains("<Stream"), "{xml}");
    assert!(xml.contains("hi-IN"));
    let call = server::db::calls::get_by_key(&s.state.db, "exotel_CA200").await.unwrap().unwrap();
    assert_eq!(call.status, CallStatus::Rejected);
    assert_eq!(call.reason.as_deref(), Some("number is not active"));
    let res = s.c.get(format!("{}{}&CallSid=CA201", s.base, s.voicebot)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_unlinked_number_uses_the_owners_latest_agent() {
    let s = setup("active", false).await;
    let xml = s.post_form(&s.webhook, &[("CallSid", "CA300")]).await.text().await.unwrap();
    assert!(xml.contains(r#"<Parameter name="agent_id" value=""#) && !xml.contains(r#"name="agent_id" value="""#), "{xml}");
    let call = server::db::calls::get_by_key(&s.state.db, "exotel_CA300").await.unwrap().unwrap();
    assert!(call.agent_id.is_some());
}

#[tokio::test]
async fn the_voicebot_url_answers_the_stream_url_as_json() {
    let s = setup("active", true).await;
    let res = s.c.get(format!("{}{}&CallSid=CA400&From=%2B919876543210", s.base, s.voicebot)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    let url = body["url"].as_str().unwrap();
    assert!(url.starts_with("ws://127.0.0.1:0/api/telephony/ws/"), "{url}");
    assert!(url.contains("sample-rate=8000") && url.contains("session=CA400"), "{url}");
    assert_eq!(s.calls().await, 1);
}

#[tokio::test]
async fn concurrent_first_webhooks_and_retries_record_exactly_one_call_each() {
    // On the file engine `voxgate serve` uses, where concurrent writes to one number conflict.
    let s = setup_on(common::file_state().await, "active", true).await;
    let mut tasks = Vec::new();
    for i in 0..100 {
        let (c, url) = (s.c.clone(), format!("{}{}", s.base, s.webhook));
        tasks.push(tokio::spawn(async move { c.post(url).form(&[("CallSid", format!("CA{i:04}"))]).send().await.unwrap().status() }));
    }
    for _ in 0..20 {
        let (c, url) = (s.c.clone(), format!("{}{}", s.base, s.webhook));
        tasks.push(tokio::spawn(async move { c.post(url).form(&[("CallSid", "CA-RETRY")]).send().await.unwrap().status() }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(s.calls().await, 101);
}

#[tokio::test]
async fn greeting_applet_gets_plain_text_and_head_the_same_headers() {
    let s = setup("active", true).await;
    let path = s.webhook.replace("/webhook/", "/exotel/greeting/");
    let get = s.c.get(format!("{}{path}", s.base)).send().await.unwrap();
    assert_eq!(get.status(), StatusCode::OK);
    assert_eq!(get.headers()["content-type"], "text/plain");
    assert_eq!(get.text().await.unwrap(), "Namaste & welcome <friend>");
    let head = s.c.head(format!("{}{path}", s.base)).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(head.headers()["content-type"], "text/plain");
    assert_eq!(s.c.get(format!("{}/api/telephony/exotel/greeting/{}?key=no", s.base, s.id)).send().await.unwrap().status(), 401);
}

#[tokio::test]
async fn passthru_after_the_voicebot_records_the_stream_outcome() {
    let s = setup("active", true).await;
    s.post_form(&s.webhook, &[("CallSid", "56b1aa78"), ("From", "+918888000000")]).await;
    // The documented Passthru example (SUP-PT 3000132269), with our key.
    let path = s.webhook.replace("/webhook/", "/exotel/passthru/");
    let url = format!(
        "{}{path}&CallSid=56b1aa78&Direction=inbound&From=%2B918888000000&To=%2B912233344455&Stream%5BStreamSID%5D=6f0447&Stream%5BStatus%5D=completed&Stream%5BDuration%5D=28&Stream%5BDisconnectedBy%5D=bot",
        s.base
    );
    assert_eq!(s.c.get(url).send().await.unwrap().status(), StatusCode::OK);
    let call = server::db::calls::get_by_key(&s.state.db, "exotel_56b1aa78").await.unwrap().unwrap();
    assert_eq!(call.status, CallStatus::Completed);
    let params: Value = serde_json::from_str(&call.params_json).unwrap();
    assert_eq!(params["Stream[DisconnectedBy]"], "bot");
    assert_eq!(params["From"], "+918888000000");
    let duration: Value = server::db::row(&s.state.db, "SELECT VALUE duration_ms FROM call", json!({})).await.unwrap().unwrap();
    assert_eq!(duration, 28_000);
    assert_eq!(s.calls().await, 1);
}

#[tokio::test]
async fn a_burst_of_calls_to_one_number_all_get_answered() {
    // Hundreds of calls in flight update the same number row; none may fail for it.
    let s = setup_on(common::file_state().await, "active", true).await;
    let mut tasks = Vec::new();
    for i in 0..400 {
        let (c, url) = (s.c.clone(), format!("{}{}", s.base, s.webhook));
        tasks.push(tokio::spawn(async move { c.post(url).form(&[("CallSid", format!("BURST{i:04}"))]).send().await.unwrap().status() }));
    }
    let mut failed = 0;
    for t in tasks {
        if t.await.unwrap() != StatusCode::OK {
            failed += 1;
        }
    }
    assert_eq!(failed, 0);
    assert_eq!(s.calls().await, 400);
}

#[tokio::test]
async fn a_call_id_recorded_for_one_number_cannot_be_claimed_through_another() {
    let s = setup("active", true).await;
    s.post_form(&s.webhook, &[("CallSid", "CAOWNED"), ("From", "+919876543210")]).await;
    // Another tenant's number, with its own valid key.
    let (other, _) = common::user_with_token(&s.state, "mallory@example.com").await;
    let theirs = server::numbers::create(
        &s.state,
        &other.owner,
        &domain::phone_number::PhoneNumberInput { phone_number: "+14155552671".into(), provider: "other".into(), ..Default::default() },
    )
    .await
    .unwrap();
    let path = theirs.webhook_url.trim_start_matches("http://127.0.0.1:0").replace("/webhook/", "/exotel/passthru/");
    let res = s.c.get(format!("{}{path}&CallSid=CAOWNED&Stream%5BStatus%5D=failed&From=spoofed", s.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let call = server::db::calls::get_by_key(&s.state.db, "exotel_CAOWNED").await.unwrap().unwrap();
    assert_eq!(call.status, CallStatus::Ringing, "unchanged");
    assert!(!call.params_json.contains("spoofed"));
}
