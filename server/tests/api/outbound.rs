//! Outbound calls over real HTTP: `POST /api/calls` asks a local server speaking each provider's
//! Calls API (server::simulator::cloud), which rings the callee, fetches our answer (or, for
//! Exotel, opens our stream), streams as the callee and sends the provider's signed callbacks.
//! The call is logged as outbound with its outcome; refusals are errors naming their field with
//! the failed call recorded; bad input writes nothing.

use std::time::Duration;

use domain::phone_number::Provider;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use server::bench::{PLIVO_ACCOUNT, VONAGE_ACCOUNT};
use server::simulator::cloud::{Callee, Cloud, CloudAccount, CloudNumber};

use crate::common::{self, TWILIO_SID, TWILIO_TOKEN};

const EXOTEL: (&str, &str, &str) = ("acme1", "KEY-abcdef1234", "TOKEN-secret-9876");
const CALLEE: &str = "+14155550199";

fn owned(number: &str, app: Option<&str>) -> CloudNumber {
    CloudNumber { number: number.into(), voice: true, app: app.map(str::to_string) }
}

/// One account per provider, each owning the number our tests call from.
pub fn accounts() -> Vec<CloudAccount> {
    let account = |provider, id: &str, key: &str, secret: &str, numbers| CloudAccount {
        provider,
        id: id.into(),
        key: key.into(),
        secret: secret.into(),
        numbers,
        application_id: None,
        public_key: None,
        signature_secret: None,
    };
    let mut vonage = account(
        Provider::Vonage,
        VONAGE_ACCOUNT.api_key,
        VONAGE_ACCOUNT.api_key,
        VONAGE_ACCOUNT.api_secret,
        vec![owned("442079460958", Some(VONAGE_ACCOUNT.application_id))],
    );
    vonage.application_id = Some(VONAGE_ACCOUNT.application_id.into());
    vonage.public_key = Some(include_str!("../../src/bench/throwaway-rsa.pub.pem").into());
    vonage.signature_secret = Some(VONAGE_ACCOUNT.signature_secret.into());
    vec![
        account(Provider::Exotel, EXOTEL.0, EXOTEL.1, EXOTEL.2, vec![owned("+919876543210", None)]),
        account(Provider::Twilio, TWILIO_SID, TWILIO_SID, TWILIO_TOKEN, vec![owned("+14155552671", None)]),
        vonage,
        account(Provider::Plivo, PLIVO_ACCOUNT.0, PLIVO_ACCOUNT.0, PLIVO_ACCOUNT.1, vec![owned("14155552671", Some("29981234"))]),
    ]
}

pub struct World {
    pub cloud: Cloud,
    pub state: server::AppState,
    pub base: String,
    pub token: String,
    pub user: server::users::CurrentUser,
    pub agent: String,
    pub http: Client,
}

impl World {
    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let res = self.http.post(format!("{}{path}", self.base)).bearer_auth(&self.token).json(&body).send().await.unwrap();
        (res.status(), res.json().await.unwrap_or(Value::Null))
    }

    /// The call, once it is no longer ringing or in progress (waits up to `secs`).
    pub async fn ended(&self, id: &str, secs: u64) -> Value {
        for _ in 0..secs * 10 {
            let call = common::get_json(&self.base, &self.token, &format!("/api/calls/{id}")).await;
            if !matches!(call["status"].as_str(), Some("ringing" | "in_progress")) {
                return call;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("call {id} did not end within {secs} s");
    }

    /// A number of `provider` (of the cloud's account), linked to the world's agent.
    pub async fn number(&self, provider: Provider) -> String {
        let input = match provider {
            Provider::Exotel => json!({ "phoneNumber": "+919876543210", "provider": "exotel",
                "exotelConfig": { "sid": EXOTEL.0, "apiKey": EXOTEL.1, "apiToken": EXOTEL.2, "region": "in" } }),
            Provider::Twilio => json!({ "phoneNumber": "+14155552671", "provider": "twilio",
                "twilioConfig": { "accountSid": TWILIO_SID, "authToken": TWILIO_TOKEN } }),
            Provider::Vonage => serde_json::to_value(server::bench::vonage_input(16000)).unwrap(),
            Provider::Plivo => serde_json::to_value(server::bench::plivo_input("audio/x-mulaw;rate=8000")).unwrap(),
            Provider::Other => unreachable!(),
        };
        let mut input = input;
        input["linkedAgentId"] = json!(self.agent);
        let (status, number) = self.post("/api/phone-numbers", input).await;
        assert_eq!(status, StatusCode::CREATED, "{number}");
        number["id"].as_str().unwrap().to_string()
    }
}

/// A cloud, a live server using it, a user with a token and a scripted agent whose greeting
/// names the callee.
pub async fn world() -> World {
    let (cloud, state, base) = common::cloud_server(accounts(), |_| {}).await;
    let (user, token) = common::user_with_token(&state, "dialer@example.com").await;
    let agent = server::agents::create(
        &state,
        &user.owner,
        domain::agent::AgentInput {
            name: "Reminders".into(),
            greeting: "Hello {{name}}, this is your reminder.".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    World { cloud, state, base, token, user, agent: agent.id, http: Client::new() }
}

#[tokio::test]
async fn each_provider_places_the_call_the_agent_greets_by_name_and_the_call_is_logged_outbound() {
    let _voice = common::voice_lock().await;
    let w = world().await;
    for provider in [Provider::Twilio, Provider::Vonage, Provider::Plivo, Provider::Exotel] {
        let phone = w.number(provider).await;
        let (status, call) = w.post("/api/calls", json!({ "phoneId": phone, "to": CALLEE, "variables": { "name": "Asha" } })).await;
        assert_eq!(status, StatusCode::CREATED, "{provider}: {call}");
        assert_eq!(call["direction"], "outbound");
        assert_eq!(call["callee"], CALLEE);
        assert_eq!(call["status"], "ringing");
        let id = call["id"].as_str().unwrap().to_string();
        let ended = w.ended(&id, 30).await;
        assert_eq!(ended["status"], "completed", "{provider}: {ended}");
        assert_eq!(ended["outcome"], "answered", "{provider}");
        let greeting = ended["turns"].as_array().unwrap().iter().find(|t| t["kind"] == "greeting").cloned().unwrap_or_default();
        assert_eq!(greeting["text"], "Hello Asha, this is your reminder.", "{provider}: the variable reached the agent: {ended}");
        let dialed = w.cloud.dials().into_iter().filter(|d| d.provider == provider).collect::<Vec<_>>();
        assert_eq!(dialed.len(), 1, "{provider}: dialed once");
        assert_eq!(dialed[0].to.trim_start_matches('+'), CALLEE.trim_start_matches('+'));
        // Every callback found the one row: no stray call was logged for the provider's own id.
        let page = common::get_json(&w.base, &w.token, &format!("/api/calls?phoneId={phone}")).await;
        assert_eq!(page["total"], 1, "{provider}: {page}");
    }
    assert_eq!(w.cloud.overlapping(), 0);
}

#[tokio::test]
async fn busy_unanswered_and_machine_callees_give_their_outcomes() {
    let w = world().await;
    let phone = w.number(Provider::Twilio).await;
    for (to, callee, outcome, status) in [
        ("+14155550101", Callee::Busy, "busy", "failed"),
        ("+14155550102", Callee::NoAnswer, "no_answer", "failed"),
        ("+14155550103", Callee::Fail, "failed", "failed"),
        ("+14155550104", Callee::Machine, "machine", "completed"),
    ] {
        w.cloud.callee(to, callee);
        let (code, call) = w.post("/api/calls", json!({ "phoneId": phone, "to": to })).await;
        assert_eq!(code, StatusCode::CREATED, "{call}");
        let ended = w.ended(call["id"].as_str().unwrap(), 30).await;
        assert_eq!((ended["outcome"].as_str(), ended["status"].as_str()), (Some(outcome), Some(status)), "{to}: {ended}");
        if status == "failed" {
            assert!(ended["reason"].as_str().is_some_and(|r| r.starts_with("Twilio: ")), "{ended}");
        }
    }
    // Analytics counts the outbound calls and the one a machine took.
    let a = common::get_json(&w.base, &w.token, "/api/analytics?days=1").await;
    assert_eq!((a["total"]["outbound"].as_i64(), a["total"]["machine"].as_i64()), (Some(4), Some(1)), "{a}");
    assert_eq!(a["total"]["calls"], 4);
}

#[tokio::test]
async fn provider_refusals_name_their_field_and_record_the_failed_call() {
    let w = world().await;
    let phone = w.number(Provider::Twilio).await;
    // A 429 passes on with its Retry-After.
    w.cloud.rate_limit(1, 7);
    let res = w
        .http
        .post(format!("{}/api/calls", w.base))
        .bearer_auth(&w.token)
        .json(&json!({ "phoneId": phone, "to": CALLEE }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.headers()["retry-after"], "7");
    let body: Value = res.json().await.unwrap();
    let failed = common::get_json(&w.base, &w.token, &format!("/api/calls/{}", body["error"]["callId"].as_str().unwrap())).await;
    assert_eq!((failed["status"].as_str(), failed["outcome"].as_str()), (Some("failed"), Some("failed")));
    assert!(failed["reason"].as_str().unwrap().contains("rate limiting"), "{failed}");
    // The provider's own words for a number it will not call.
    let (code, body) = w.post("/api/calls", json!({ "phoneId": phone, "to": "+999" })).await;
    assert_eq!(code, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["field"], "to");
    // Wrong credentials: the credential field, and the failed call names them.
    let other = server::numbers::create(
        &w.state,
        &w.user.owner,
        &domain::phone_number::PhoneNumberInput {
            phone_number: "+14155550123".into(),
            provider: "twilio".into(),
            twilio_config: Some(domain::phone_number::TwilioConfigInput {
                account_sid: TWILIO_SID.into(),
                auth_token: Some("wrong-token-0000000000000000000000".into()),
            }),
            linked_agent_id: Some(w.agent.clone()),
            status: Some("active".into()),
            ..Default::default()
        },
    )
    .await;
    if let Ok(other) = other {
        let (code, body) = w.post("/api/calls", json!({ "phoneId": other.id, "to": CALLEE })).await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"]["field"], "twilioConfig.authToken");
        assert!(body["error"]["callId"].is_string());
        assert!(!body.to_string().contains("wrong-token"), "no secret in an error");
    }
}

#[tokio::test]
async fn an_unreachable_provider_is_a_502_with_the_call_failed() {
    let (_cloud, state, base) = common::cloud_server(accounts(), |s| s.provider_apis.twilio = "http://127.0.0.1:1".into()).await;
    let (user, token) = common::user_with_token(&state, "far@example.com").await;
    let agent =
        server::agents::create(&state, &user.owner, domain::agent::AgentInput { name: "A".into(), ..Default::default() }).await.unwrap();
    let number = common::twilio_number(&state, &user.owner, Some(&agent.id), "active").await;
    let res = Client::new()
        .post(format!("{base}/api/calls"))
        .bearer_auth(&token)
        .json(&json!({ "phoneId": number.id, "to": CALLEE }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_GATEWAY);
    let body: Value = res.json().await.unwrap();
    let call = common::get_json(&base, &token, &format!("/api/calls/{}", body["error"]["callId"].as_str().unwrap())).await;
    assert_eq!(call["status"], "failed");
    assert!(call["reason"].as_str().unwrap().starts_with("Twilio: the provider could not be reached"), "{call}");
}

#[tokio::test]
async fn bad_requests_name_their_field_and_write_nothing() {
    let w = world().await;
    let phone = w.number(Provider::Twilio).await;
    let stranger = common::user(&w.state, "stranger@example.com").await;
    let theirs = server::agents::create(&w.state, &stranger.owner, domain::agent::AgentInput { name: "T".into(), ..Default::default() })
        .await
        .unwrap();
    for (body, code, field) in [
        (json!({ "phoneId": phone, "to": "98765 43210" }), StatusCode::BAD_REQUEST, Some("to")),
        (json!({ "phoneId": phone, "to": CALLEE, "variables": { "bad-name": "x" } }), StatusCode::BAD_REQUEST, Some("variables.bad-name")),
        (json!({ "phoneId": phone, "to": CALLEE, "agentId": theirs.id }), StatusCode::BAD_REQUEST, Some("agentId")),
        (json!({ "phoneId": "nope", "to": CALLEE }), StatusCode::NOT_FOUND, None),
        (json!({ "phoneId": phone, "to": "+14155552671" }), StatusCode::BAD_REQUEST, Some("to")),
        (json!({ "phoneId": phone, "to": 5 }), StatusCode::BAD_REQUEST, None),
    ] {
        let (status, reply) = w.post("/api/calls", body.clone()).await;
        assert_eq!(status, code, "{body}: {reply}");
        if let Some(field) = field {
            assert_eq!(reply["error"]["field"], field, "{body}");
        }
    }
    let page = common::get_json(&w.base, &w.token, "/api/calls").await;
    assert_eq!(page["total"], 0, "no call was written: {page}");
    assert!(w.cloud.dials().is_empty(), "no provider was asked");
    // Another tenant cannot call from this number.
    let (_, their_token) = server::users::create_token(&w.state, &stranger.owner, "t").await.unwrap();
    let res = w
        .http
        .post(format!("{}/api/calls", w.base))
        .bearer_auth(their_token)
        .json(&json!({ "phoneId": phone, "to": CALLEE }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_answering_machine_is_hung_up_on_or_left_the_agents_message() {
    use server::telephony::twilio::signature;
    let w = world().await;
    let phone = w.number(Provider::Twilio).await;
    w.cloud.callee("+14155550150", Callee::Machine);
    // The default: hang up on a machine; no stream, no turn.
    let (_, call) = w.post("/api/calls", json!({ "phoneId": phone, "to": "+14155550150" })).await;
    let ended = w.ended(call["id"].as_str().unwrap(), 30).await;
    assert_eq!((ended["outcome"].as_str(), ended["status"].as_str()), (Some("machine"), Some("completed")), "{ended}");
    assert_eq!(ended["turns"].as_array().unwrap().len(), 0, "nobody talked to the machine");
    assert_eq!(ended["providerParams"]["AnsweredBy"], "machine_start", "hang up: Twilio was asked to decide at once");
    // An agent that leaves a message: Twilio waits for the beep, the answer says the message.
    let input = domain::agent::AgentInput {
        name: "Reminders".into(),
        greeting: "Hello {{name}}.".into(),
        on_machine: "leave_message".into(),
        voicemail_message: "Sorry we missed you, {{name}}. Call us back.".into(),
        ..Default::default()
    };
    server::agents::update(&w.state, &w.user.owner, &w.agent, input).await.unwrap();
    let (_, call) = w.post("/api/calls", json!({ "phoneId": phone, "to": "+14155550150", "variables": { "name": "Asha" } })).await;
    let ended = w.ended(call["id"].as_str().unwrap(), 30).await;
    assert_eq!(ended["outcome"], "machine", "{ended}");
    assert_eq!(ended["providerParams"]["AnsweredBy"], "machine_end_beep", "leave a message: Twilio waited for the beep");
    // The answer Twilio got for that webhook, asked again (a retry finds the same call).
    let url = format!("{}/api/telephony/twilio/voice/{phone}?vg_dial={}", w.base, ended["sessionId"].as_str().unwrap());
    let form: Vec<(String, String)> = [
        ("CallSid", ended["providerParams"]["CallSid"].as_str().unwrap()),
        ("AccountSid", TWILIO_SID),
        ("Direction", "outbound-api"),
        ("AnsweredBy", "machine_end_beep"),
        ("CallStatus", "in-progress"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let res =
        w.http.post(&url).header(signature::HEADER, signature::signature(TWILIO_TOKEN, &url, &form)).form(&form).send().await.unwrap();
    let twiml = res.text().await.unwrap();
    assert!(twiml.contains(">Sorry we missed you, Asha. Call us back.</Say><Hangup/>"), "{twiml}");
    assert!(!twiml.contains("<Stream"), "no stream to a machine");
}

#[tokio::test]
async fn exotel_calls_are_screened_a_person_gets_the_agent_and_a_machine_the_agents_policy() {
    let _voice = common::voice_lock().await;
    let w = world().await;
    let tts = w.state.voice.pipeline(&domain::agent::AgentInput { name: "Callee".into(), ..Default::default() }, None).tts;
    let silence = |ms: usize| vec![0i16; 8 * ms];
    let beep: Vec<i16> = (0..3200).map(|i| (8000.0 * (2.0 * std::f64::consts::PI * 1000.0 * i as f64 / 8000.0).sin()) as i16).collect();
    let hello = [silence(200), tts.synthesize("Hello?", 8000).await.unwrap()].concat();
    let greeting = "Hi, you have reached Asha. I cannot take your call right now. Please leave a message after the tone.";
    let voicemail = [silence(200), tts.synthesize(greeting, 8000).await.unwrap(), silence(300), beep].concat();
    w.cloud.voices(server::simulator::cloud::Voices { hello: hello.into(), voicemail: voicemail.into() });
    w.cloud.callee("+14155550161", Callee::Machine);
    let phone = w.number(Provider::Exotel).await;
    let call = |to: &'static str| {
        let (w, phone) = (&w, phone.clone());
        async move {
            let (status, call) = w.post("/api/calls", json!({ "phoneId": phone, "to": to, "variables": { "name": "Asha" } })).await;
            assert_eq!(status, StatusCode::CREATED, "{call}");
            w.ended(call["id"].as_str().unwrap(), 60).await
        }
    };
    let said = |call: &Value| {
        call["turns"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["role"] == "agent")
            .map(|t| t["text"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    // A person says hello and waits: the agent greets them.
    let person = call("+14155550160").await;
    assert_eq!(person["outcome"], "answered", "{person}");
    assert_eq!(said(&person), ["Hello Asha, this is your reminder."]);
    // A voicemail greeting: the default policy hangs up, saying nothing.
    let machine = call("+14155550161").await;
    assert_eq!((machine["outcome"].as_str(), machine["status"].as_str()), (Some("machine"), Some("completed")), "{machine}");
    assert!(said(&machine).is_empty(), "nothing said to the machine: {machine}");
    // An agent that leaves a message waits for the beep, says it, and hangs up.
    let input = domain::agent::AgentInput {
        name: "Reminders".into(),
        greeting: "Hello {{name}}, this is your reminder.".into(),
        on_machine: "leave_message".into(),
        voicemail_message: "Sorry we missed you, {{name}}.".into(),
        ..Default::default()
    };
    server::agents::update(&w.state, &w.user.owner, &w.agent, input).await.unwrap();
    let message = call("+14155550161").await;
    assert_eq!(message["outcome"], "machine", "{message}");
    assert_eq!(said(&message), ["Sorry we missed you, Asha."], "{message}");
}

#[tokio::test]
async fn vonage_and_plivo_leave_the_message_after_the_beep_their_detection_reports() {
    let _voice = common::voice_lock().await;
    let w = world().await;
    let input = domain::agent::AgentInput {
        name: "Reminders".into(),
        on_machine: "leave_message".into(),
        voicemail_message: "Please call us back, {{name}}.".into(),
        ..Default::default()
    };
    server::agents::update(&w.state, &w.user.owner, &w.agent, input).await.unwrap();
    w.cloud.default_callee(Callee::Machine);
    for provider in [Provider::Vonage, Provider::Plivo] {
        let phone = w.number(provider).await;
        let (status, call) = w.post("/api/calls", json!({ "phoneId": phone, "to": CALLEE, "variables": { "name": "Asha" } })).await;
        assert_eq!(status, StatusCode::CREATED, "{call}");
        let ended = w.ended(call["id"].as_str().unwrap(), 60).await;
        assert_eq!(ended["outcome"], "machine", "{provider}: {ended}");
        let said: Vec<&str> =
            ended["turns"].as_array().unwrap().iter().filter(|t| t["role"] == "agent").filter_map(|t| t["text"].as_str()).collect();
        assert_eq!(said, ["Please call us back, Asha."], "{provider}: the message, after the greeting and beep: {ended}");
    }
}
