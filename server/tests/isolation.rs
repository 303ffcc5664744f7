//! Tenant isolation: user B can neither see nor change user A's rows, over real HTTP.
//! Every read, update and delete path of every domain is listed here; B gets 404 (never 403,
//! so existence does not leak) and A's data is unchanged afterwards.

mod common;

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
        .post(&c, format!("{base}/api/phone-numbers"), json!({
            "phoneNumber": "+14155552671", "provider": "other", "displayName": "A's line", "linkedAgentId": agent_id }))
        .send().await.unwrap().json().await.unwrap();
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
        .post(&c, format!("{base}/api/phone-numbers"), json!({ "phoneNumber": "+14155552672", "provider": "other", "linkedAgentId": agent_id }))
        .send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // Unchanged for A.
    let mine: Value = a.get(&c, format!("{base}/api/phone-numbers/{number_id}")).send().await.unwrap().json().await.unwrap();
    assert_eq!(mine["displayName"], "A's line");
    assert_eq!(mine["webhookUrl"], number["webhookUrl"]);
    assert_eq!(mine["linkedAgentId"], json!(agent_id));
    let agent_now: Value = a.get(&c, format!("{base}/api/agents/{agent_id}")).send().await.unwrap().json().await.unwrap();
    assert_eq!(agent_now["name"], "A's agent");
}
