//! Transfers to a person: a caller who asks for one (key words, the agent's key) hears the
//! agent's line, then the provider is asked to connect them: Twilio, Vonage and Plivo through
//! their call-update APIs (the local cloud records the dial and what a warm transfer's person
//! heard first), Exotel through its flow (Passthru answers 302, the Connect applet's dynamic URL
//! the destination). The call's outcome says `transferred` and the line is a `transfer` turn.

use crate::common;
use crate::outbound::world;

use domain::agent::AgentInput;
use domain::phone_number::Provider;
use reqwest::StatusCode;
use serde_json::{Value, json};
use server::simulator::{self, CallOptions, Step};

const PERSON: &str = "+14155550100";
const LINE: &str = "Connecting you to a person now. Please hold.";

async fn speech(state: &server::AppState, text: &str) -> Vec<i16> {
    let p = state.voice.pipeline(&AgentInput { name: "Caller".into(), ..Default::default() }, None);
    p.tts.synthesize(text, 8000).await.unwrap()
}

fn said(call: &Value, kind: &str) -> Vec<String> {
    let turns = call["turns"].as_array().unwrap();
    turns.iter().filter(|t| t["kind"] == kind).map(|t| t["text"].as_str().unwrap().to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_asked_for_is_dialed_through_each_providers_call_update_api() {
    let _voice = common::voice_lock().await;
    let w = world().await;
    let asks = speech(&w.state, "Hello. Can I talk to a person please?").await;
    w.cloud.person_says(Some(asks.into()));
    let mut input = server::agents::get(&w.state, &w.user.owner, &w.agent).await.unwrap().settings;
    input.transfer_to = PERSON.into();
    let mut phones = std::collections::HashMap::new();
    for (provider, warm) in [(Provider::Twilio, true), (Provider::Vonage, true), (Provider::Plivo, true), (Provider::Twilio, false)] {
        input.warm_transfer = warm;
        server::agents::update(&w.state, &w.user.owner, &w.agent, input.clone()).await.unwrap();
        if let std::collections::hash_map::Entry::Vacant(e) = phones.entry(provider) {
            e.insert(w.number(provider).await);
        }
        let (status, call) = w.post("/api/calls", json!({ "phoneId": phones[&provider], "to": "+14155550199" })).await;
        assert_eq!(status, StatusCode::CREATED, "{call}");
        let ended = w.ended(call["id"].as_str().unwrap(), 60).await;
        assert_eq!(ended["outcome"], "transferred", "{provider}: {ended}");
        assert_eq!(ended["reason"], "transferred to a person", "{provider}: {ended}");
        assert_eq!(said(&ended, "transfer"), [LINE], "{provider}: {ended}");
        let transfer = w.cloud.transfers().pop().expect("the cloud was asked to transfer");
        assert_eq!((transfer.provider, transfer.to.as_str()), (provider, PERSON), "{provider}");
        assert_eq!(transfer.call_id, w.cloud.dials().last().unwrap().call_id, "{provider}: the caller's own leg");
        match (warm, transfer.heard.as_deref()) {
            (true, Some(heard)) => {
                assert!(heard.starts_with("A caller asked for a person. They said:") && heard.contains("person"), "{provider}: {heard}")
            }
            (false, None) => {}
            other => panic!("{provider}: warm {warm}, heard {other:?}"),
        }
    }
    assert_eq!(w.cloud.transfers().len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exotel_call_goes_on_in_its_flow_to_the_connect_applet_with_the_destination() {
    let _voice = common::voice_lock().await;
    let (state, base) = common::live_server().await;
    let user = common::user(&state, "flow@example.com").await;
    let input = AgentInput {
        name: "Desk".into(),
        transfer_to: "+91 98765 00000".into(),
        transfer_digit: "0".into(),
        warm_transfer: true,
        ..Default::default()
    };
    let agent = server::agents::create(&state, &user.owner, input).await.unwrap();
    let number = common::linked_number(&state, &user.owner, &agent.id).await;
    let flow = |applet: &str, sid: &str| {
        let url = number.webhook_url.replace("/api/telephony/webhook/", &format!("/api/telephony/exotel/{applet}/"));
        format!("{url}&CallSid={sid}&Stream[Status]=completed&Stream[DisconnectedBy]=bot")
    };
    // Exotel's flow engine does not follow redirects: the status is the branch.
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();

    // The caller presses 0: the agent says its line and closes the stream.
    let opts = CallOptions::new(number.webhook_url.clone(), vec![Step::Dtmf("0".into())]);
    let sid = opts.call_sid.clone();
    let report = simulator::run(opts).await.expect("the call runs");
    assert_eq!(report.closed_by_server.as_ref().map(|c| c.0), Some(1000), "{:?}", report.closed_by_server);
    assert_eq!(http.get(flow("passthru", &sid)).send().await.unwrap().status(), StatusCode::FOUND, "the Connect branch");
    let connect = http.get(flow("connect", &sid)).send().await.unwrap();
    assert_eq!(connect.status(), StatusCode::OK);
    let answer: Value = connect.json().await.unwrap();
    assert_eq!(answer["destination"]["numbers"], json!(["+919876500000"]));
    assert_eq!(answer["start_call_playback"]["playback_to"], "callee");
    assert!(answer["start_call_playback"]["value"].as_str().unwrap().starts_with("A caller asked for a person."), "{answer}");
    let (_, token) = server::users::create_token(&state, &user.owner, "t").await.unwrap();
    let call = common::get_json(&base, &token, &format!("/api/calls/exotel_{sid}")).await;
    assert_eq!((call["outcome"].as_str(), call["status"].as_str()), (Some("transferred"), Some("completed")), "{call}");

    // A call that ends without a transfer takes the first branch, and its Connect has nothing.
    let opts = CallOptions::new(number.webhook_url.clone(), vec![Step::Dtmf("5".into())]);
    let plain = opts.call_sid.clone();
    simulator::run(opts).await.expect("the call runs");
    assert_eq!(http.get(flow("passthru", &plain)).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(http.get(flow("connect", &plain)).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    // Another number's key reads nothing of this call.
    let other = common::number(&state, &user.owner, "+918047491800", None).await;
    let theirs = other.webhook_url.replace("/api/telephony/webhook/", "/api/telephony/exotel/connect/");
    assert_eq!(http.get(format!("{theirs}&CallSid={sid}")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
}
