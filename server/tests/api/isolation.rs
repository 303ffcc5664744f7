//! Tenant isolation: user B can neither see nor change user A's rows, over real HTTP.
//! Every read, update and delete path of every domain is listed here; B gets 404 (never 403,
//! so existence does not leak) and A's data is unchanged afterwards. Calls, analytics and live
//! events too: B never sees A's calls, figures or live events.

use crate::common;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

struct Tenant {
    token: String,
}

impl Tenant {
    fn get(&self, c: &Client, url: String) -> reqwest::RequestBuilder {
        c.get(url).bearer_auth(&self.token)
    }
    fn delete(&self, c: &Client, url: String) -> reqwest::RequestBuilder {
        c.delete(url).bearer_auth(&self.token)
    }
    fn post(&self, c: &Client, url: String, body: Value) -> reqwest::RequestBuilder {
        c.post(url).bearer_auth(&self.token).json(&body)
    }
}

async fn two_tenants() -> (String, Tenant, Tenant) {
    let state = common::state().await;
    let (_, a) = common::user_with_token(&state, "a@example.com").await;
    let (_, b) = common::user_with_token(&state, "b@example.com").await;
    (common::serve(state).await, Tenant { token: a }, Tenant { token: b })
}

async fn ids(c: &Client, t: &Tenant, url: String) -> Vec<String> {
    let list: Vec<Value> = t.get(c, url).send().await.unwrap().json().await.unwrap();
    list.iter().map(|v| v["id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn api_tokens_are_isolated() {
    let (base, a, b) = two_tenants().await;
    let c = Client::new();
    let res = a.post(&c, format!("{base}/api/tokens"), json!({ "name": "A's extra" })).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let a_id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();

    // Read: B's list never shows A's token.
    assert!(!ids(&c, &b, format!("{base}/api/tokens")).await.contains(&a_id));
    // Delete: 404, exactly like an id that does not exist.
    let theirs = b.delete(&c, format!("{base}/api/tokens/{a_id}")).send().await.unwrap();
    let missing = b.delete(&c, format!("{base}/api/tokens/doesnotexist")).send().await.unwrap();
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(theirs.text().await.unwrap(), missing.text().await.unwrap());
    // Unchanged for A.
    assert!(ids(&c, &a, format!("{base}/api/tokens")).await.contains(&a_id));
}

#[tokio::test]
async fn identity_comes_from_the_token_only() {
    let (base, a, b) = two_tenants().await;
    let c = Client::new();
    let me_a: Value = a.get(&c, format!("{base}/api/me")).send().await.unwrap().json().await.unwrap();
    let me_b: Value = b.get(&c, format!("{base}/api/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!(me_a["email"], "a@example.com");
    assert_eq!(me_b["email"], "b@example.com");
}

#[tokio::test]
async fn agents_and_phone_numbers_are_isolated() {
    let (base, a, b) = two_tenants().await;
    let c = Client::new();
    let agent: Value = a.post(&c, format!("{base}/api/agents"), json!({ "name": "A's agent" })).send().await.unwrap().json().await.unwrap();
    let agent_id = agent["id"].as_str().unwrap().to_string();
    let number: Value = a
        .post(
            &c,
            format!("{base}/api/phone-numbers"),
            json!({
            "phoneNumber": "+14155552671", "provider": "other", "displayName": "A's line", "linkedAgentId": agent_id }),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let number_id = number["id"].as_str().unwrap().to_string();

    // Reads.
    assert!(!ids(&c, &b, format!("{base}/api/agents")).await.contains(&agent_id));
    let page: Value = b.get(&c, format!("{base}/api/phone-numbers")).send().await.unwrap().json().await.unwrap();
    assert_eq!(page["total"], 0);
    let by_agent: Value = b.get(&c, format!("{base}/api/phone-numbers?agentId={agent_id}")).send().await.unwrap().json().await.unwrap();
    assert_eq!(by_agent["total"], 0);
    let put = |url: String, body: Value| c.put(url).bearer_auth(&b.token).json(&body);
    let cases = [
        b.get(&c, format!("{base}/api/agents/{agent_id}")),
        b.get(&c, format!("{base}/api/phone-numbers/{number_id}")),
        // Updates.
        put(format!("{base}/api/agents/{agent_id}"), json!({ "name": "taken over" })),
        put(format!("{base}/api/phone-numbers/{number_id}"), json!({ "phoneNumber": "+14155552671", "provider": "other" })),
        put(format!("{base}/api/phone-numbers"), json!({ "id": number_id, "phoneNumber": "+14155552671", "provider": "other" })),
        b.post(&c, format!("{base}/api/phone-numbers/{number_id}/rotate-secret"), json!({})),
        b.post(&c, format!("{base}/api/phone-numbers/{number_id}/test"), json!({})),
        // Deletes.
        b.delete(&c, format!("{base}/api/agents/{agent_id}")),
        b.delete(&c, format!("{base}/api/phone-numbers/{number_id}")),
        b.delete(&c, format!("{base}/api/phone-numbers?id={number_id}")),
    ];
    for req in cases {
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{:?}", res.url());
    }
    // B cannot link A's agent to a number of their own either.
    let res = b
        .post(
            &c,
            format!("{base}/api/phone-numbers"),
            json!({ "phoneNumber": "+14155552672", "provider": "other", "linkedAgentId": agent_id }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // Unchanged for A.
    let mine: Value = a.get(&c, format!("{base}/api/phone-numbers/{number_id}")).send().await.unwrap().json().await.unwrap();
    assert_eq!(mine["displayName"], "A's line");
    assert_eq!(mine["webhookUrl"], number["webhookUrl"]);
    assert_eq!(mine["linkedAgentId"], json!(agent_id));
    let agent_now: Value = a.get(&c, format!("{base}/api/agents/{agent_id}")).send().await.unwrap().json().await.unwrap();
    assert_eq!(agent_now["name"], "A's agent");
}

#[tokio::test]
async fn calls_and_analytics_are_isolated() {
    let (state, base) = common::live_server().await;
    let (ana, ana_token) = common::user_with_token(&state, "ana@example.com").await;
    let (_, bo_token) = common::user_with_token(&state, "bo@example.com").await;
    let (a, b) = (Tenant { token: ana_token }, Tenant { token: bo_token });
    common::place_call(&state, &ana, "CAISO01").await;
    let c = Client::new();
    let mine: Value = a.get(&c, format!("{base}/api/calls")).send().await.unwrap().json().await.unwrap();
    assert_eq!(mine["total"], 1);
    let (call_id, phone_id) =
        (mine["calls"][0]["id"].as_str().unwrap().to_string(), mine["calls"][0]["phoneId"].as_str().unwrap().to_string());

    let theirs: Value = b.get(&c, format!("{base}/api/calls")).send().await.unwrap().json().await.unwrap();
    assert_eq!(theirs["total"], 0);
    let filtered: Value = b.get(&c, format!("{base}/api/calls?phoneId={phone_id}")).send().await.unwrap().json().await.unwrap();
    assert_eq!(filtered["total"], 0);
    let theirs = b.get(&c, format!("{base}/api/calls/{call_id}")).send().await.unwrap();
    let missing = b.get(&c, format!("{base}/api/calls/exotel_nosuch")).send().await.unwrap();
    assert_eq!((theirs.status(), missing.status()), (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND));
    assert_eq!(theirs.text().await.unwrap(), missing.text().await.unwrap());
    for query in [String::new(), format!("?phoneId={phone_id}"), "?days=90".into()] {
        let figures: Value = b.get(&c, format!("{base}/api/analytics{query}")).send().await.unwrap().json().await.unwrap();
        assert_eq!(figures["total"]["calls"], 0, "{query}: {figures}");
        assert_eq!(figures["byNumber"], json!([]), "{query}");
    }
    let figures: Value = a.get(&c, format!("{base}/api/analytics")).send().await.unwrap().json().await.unwrap();
    assert_eq!(figures["total"]["calls"], 1);
    // B's number list shows no last call of A's either.
    let page: Value = b.get(&c, format!("{base}/api/phone-numbers")).send().await.unwrap().json().await.unwrap();
    assert_eq!(page["total"], 0);
}

#[tokio::test]
async fn each_user_hears_only_their_own_calls_live() {
    let (state, base) = common::live_server().await;
    let (ana, ana_token) = common::user_with_token(&state, "ana@example.com").await;
    let (bo, bo_token) = common::user_with_token(&state, "bo@example.com").await;
    let c = Client::new();
    let subscribe = |token: String| {
        let (c, base) = (c.clone(), base.clone());
        async move {
            let res = c.get(format!("{base}/api/calls/live")).bearer_auth(token).send().await.unwrap();
            assert_eq!(res.status(), 200);
            assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
            res
        }
    };
    let ana_stream = subscribe(ana_token).await;
    let bo_stream = subscribe(bo_token).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    // Both users' calls happen at the same time.
    tokio::join!(common::place_call(&state, &ana, "CALIVE01"), common::place_call(&state, &bo, "CALIVE02"));

    let wait = std::time::Duration::from_secs(2);
    let (ana_events, bo_events) = tokio::join!(common::sse_events(ana_stream, wait), common::sse_events(bo_stream, wait));
    for (events, own) in [(&ana_events, "exotel_CALIVE01"), (&bo_events, "exotel_CALIVE02")] {
        let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
        assert!(names.contains(&"call") && names.contains(&"turn"), "{events:?}");
        assert!(events.iter().all(|(_, e)| e["callId"] == own), "another user's call leaked: {events:?}");
    }
    let turn = &ana_events.iter().find(|(n, _)| n == "turn").unwrap().1;
    assert_eq!((turn["callId"].as_str(), turn["seq"].as_i64(), turn["role"].as_str()), (Some("exotel_CALIVE01"), Some(1), Some("caller")));
    assert!(ana_events.iter().any(|(n, e)| n == "call" && e["status"] == "in_progress"), "{ana_events:?}");
}

#[tokio::test]
async fn one_user_cannot_hold_every_live_stream() {
    let (state, base) = common::live_server().await;
    let (_, ana) = common::user_with_token(&state, "ana@example.com").await;
    let (_, bo) = common::user_with_token(&state, "bo@example.com").await;
    let c = Client::new();
    let open = |token: &str| c.get(format!("{base}/api/calls/live")).bearer_auth(token.to_string()).send();
    let mut held = Vec::new();
    for _ in 0..server::calls::live::MAX_STREAMS_PER_USER {
        let res = open(&ana).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        held.push(res);
    }
    let refused = open(&ana).await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.json::<Value>().await.unwrap()["error"]["code"], "too_many_streams");
    // Another user is not affected.
    assert_eq!(open(&bo).await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn live_streams_have_a_cap_for_the_whole_node_too() {
    let (mut state, _) = common::live_server().await;
    state.live_streams = server::slots::Slots::new(3, 20);
    let base = common::serve(state.clone()).await;
    let c = Client::new();
    let mut held = Vec::new();
    for i in 0..3 {
        let (_, token) = common::user_with_token(&state, &format!("u{i}@example.com")).await;
        let res = c.get(format!("{base}/api/calls/live")).bearer_auth(token).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        held.push(res);
    }
    let (_, token) = common::user_with_token(&state, "late@example.com").await;
    let refused = c.get(format!("{base}/api/calls/live")).bearer_auth(token.clone()).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.text().await.unwrap().contains("the server is at its limit of 3"));
    // A closed stream gives its place back.
    held.pop();
    let mut reopened = None;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let res = c.get(format!("{base}/api/calls/live")).bearer_auth(token.clone()).send().await.unwrap();
        if res.status() == StatusCode::OK {
            reopened = Some(res);
            break;
        }
    }
    assert!(reopened.is_some(), "the freed place was never given back");
}

#[tokio::test]
async fn live_events_need_a_signed_in_user() {
    let (_state, base) = common::live_server().await;
    let res = reqwest::get(format!("{base}/api/calls/live")).await.unwrap();
    assert_eq!(res.status(), 401);
}
