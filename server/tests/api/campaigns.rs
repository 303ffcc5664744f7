//! Campaigns over real HTTP against the local provider cloud: the dialer calls every contact
//! exactly once within the campaign's concurrency and pace, slows down on a provider's 429s
//! without failing anyone, retries busy contacts with back-off on the state's clock, and obeys
//! pause, resume and cancel; the contact list's bad rows are reported by line.

use std::time::Duration;

use domain::phone_number::Provider;
use reqwest::StatusCode;
use serde_json::{Value, json};
use server::simulator::cloud::Callee;

use crate::common;
use crate::outbound::{World, world};

fn contacts_csv(n: usize, first: u32) -> String {
    let mut csv = String::from("phone,name\n");
    for i in 0..n {
        csv.push_str(&format!("+1415555{:04},Contact {i}\n", first as usize + i));
    }
    csv
}

impl World {
    async fn campaign(&self, body: Value) -> Value {
        let (status, created) = self.post("/api/campaigns", body).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        created
    }

    /// The campaign once its status is `status` (waits up to `secs`).
    async fn campaign_when(&self, id: &str, status: &str, secs: u64) -> Value {
        let mut last = Value::Null;
        for _ in 0..secs * 5 {
            last = common::get_json(&self.base, &self.token, &format!("/api/campaigns/{id}")).await;
            if last["status"] == status {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("campaign {id} not {status} within {secs} s: {last}");
    }

    async fn greeting(&self, text: &str) {
        let input = domain::agent::AgentInput { name: "Reminders".into(), greeting: text.into(), ..Default::default() };
        server::agents::update(&self.state, &self.user.owner, &self.agent, input).await.unwrap();
    }
}

#[tokio::test]
async fn a_campaign_calls_every_contact_once_within_its_concurrency_and_pace() {
    let _voice = common::voice_lock().await;
    let w = world().await;
    w.greeting("Hi, a reminder.").await;
    server::campaigns::dialer::spawn(w.state.clone());
    let phone = w.number(Provider::Twilio).await;
    let created = w
        .campaign(json!({
            "name": "Reminders", "agentId": w.agent, "phoneIds": [phone], "contactsCsv": contacts_csv(40, 1000),
            "maxConcurrent": 6, "callsPerSecond": 8.0, "maxAttempts": 1, "retryDelaySecs": 60,
        }))
        .await;
    assert_eq!(created["contacts"], 40);
    let id = created["campaign"]["id"].as_str().unwrap().to_string();
    let done = w.campaign_when(&id, "completed", 120).await;
    let counts = &done["counts"];
    assert_eq!(
        (counts["total"].as_i64(), counts["answered"].as_i64(), counts["dialed"].as_i64()),
        (Some(40), Some(40), Some(40)),
        "{counts}"
    );
    assert_eq!(counts["remaining"], 0);
    let dials = w.cloud.dials();
    assert_eq!(dials.len(), 40, "each contact dialed once");
    assert_eq!(w.cloud.overlapping(), 0, "no contact dialed twice at once");
    assert!(w.cloud.peak_live() <= 6, "at most 6 calls at once, saw {}", w.cloud.peak_live());
    // The pace: no second holds more than 8 dials (+1 for a window edge).
    let starts: Vec<std::time::Instant> = dials.iter().map(|d| d.at).collect();
    let busiest =
        starts.iter().map(|a| starts.iter().filter(|b| **b >= *a && b.duration_since(*a) < Duration::from_secs(1)).count()).max().unwrap();
    assert!(busiest <= 9, "{busiest} dials in one second");
    // Every contact's call is in the log, outbound, tagged with the campaign.
    let page = common::get_json(&w.base, &w.token, &format!("/api/campaigns/{id}/contacts?pageSize=100")).await;
    assert_eq!(page["total"], 40);
    assert!(
        page["contacts"].as_array().unwrap().iter().all(|c| c["state"] == "done" && c["outcome"] == "answered" && c["callId"].is_string())
    );
    let res = w.http.get(format!("{}/api/campaigns/{id}/results.csv", w.base)).bearer_auth(&w.token).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = res.text().await.unwrap();
    assert_eq!(csv.lines().count(), 41, "a header and a row per contact");
    assert!(csv.lines().nth(1).unwrap().starts_with("2,+14155551000,done,answered,1,"), "{csv}");
}

#[tokio::test]
async fn a_providers_429s_slow_the_campaign_without_failing_a_contact() {
    let _voice = common::voice_lock().await;
    let w = world().await;
    w.greeting("Hi.").await;
    server::campaigns::dialer::spawn(w.state.clone());
    let phone = w.number(Provider::Twilio).await;
    w.cloud.dial_rate(Some(2));
    let created = w
        .campaign(json!({
            "name": "Throttled", "agentId": w.agent, "phoneIds": [phone], "contactsCsv": contacts_csv(16, 2000),
            "maxConcurrent": 10, "callsPerSecond": 10.0, "maxAttempts": 1, "retryDelaySecs": 60,
        }))
        .await;
    let id = created["campaign"]["id"].as_str().unwrap().to_string();
    let done = w.campaign_when(&id, "completed", 120).await;
    assert_eq!(done["counts"]["answered"], 16, "{done}");
    assert_eq!(done["counts"]["failed"], 0);
    assert_eq!(w.cloud.dials().len(), 16);
    // A refused dial left no call behind: the log holds the 16 calls that were placed.
    let page = common::get_json(&w.base, &w.token, "/api/calls?pageSize=100").await;
    assert_eq!(page["total"], 16, "{page}");
}

#[tokio::test]
async fn busy_contacts_are_retried_after_the_delay_then_given_up() {
    let w = world().await;
    server::campaigns::dialer::spawn(w.state.clone());
    let phone = w.number(Provider::Twilio).await;
    w.cloud.callee("+14155553000", Callee::Busy);
    let created = w
        .campaign(json!({
            "name": "Retries", "agentId": w.agent, "phoneIds": [phone], "contactsCsv": contacts_csv(1, 3000),
            "maxConcurrent": 1, "callsPerSecond": 5.0, "maxAttempts": 2, "retryDelaySecs": 60,
        }))
        .await;
    let id = created["campaign"]["id"].as_str().unwrap().to_string();
    let contact = || async { common::get_json(&w.base, &w.token, &format!("/api/campaigns/{id}/contacts")).await["contacts"][0].clone() };
    let mut first = Value::Null;
    for _ in 0..100 {
        first = contact().await;
        if first["state"] == "pending" && first["attempts"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!((first["state"].as_str(), first["outcome"].as_str()), (Some("pending"), Some("busy")), "{first}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(w.cloud.dials().len(), 1, "not dialed again before the delay");
    w.state.clock.advance(chrono::Duration::seconds(61));
    let done = w.campaign_when(&id, "completed", 30).await;
    assert_eq!(done["counts"]["busy"], 1, "{done}");
    let last = contact().await;
    assert_eq!((last["state"].as_str(), last["attempts"].as_u64()), (Some("failed"), Some(2)), "{last}");
    assert_eq!(w.cloud.dials().len(), 2);
}

#[tokio::test]
async fn pause_resume_and_cancel_move_only_as_the_status_allows() {
    let w = world().await;
    let phone = w.number(Provider::Twilio).await;
    // Scheduled for tomorrow: nothing is dialed.
    let tomorrow = server::clock::rfc3339(w.state.clock.now() + chrono::Duration::days(1));
    let created = w
        .campaign(
            json!({ "name": "Later", "agentId": w.agent, "phoneIds": [phone], "contactsCsv": contacts_csv(3, 4000), "startAt": tomorrow }),
        )
        .await;
    let id = created["campaign"]["id"].as_str().unwrap().to_string();
    assert_eq!(created["campaign"]["status"], "scheduled");
    let act = |what: &'static str| {
        let (w, id) = (&w, id.clone());
        async move { w.post(&format!("/api/campaigns/{id}/{what}"), json!({})).await }
    };
    let (status, resumed) = act("resume").await;
    assert_eq!(status, StatusCode::CONFLICT, "a scheduled campaign is not paused: {resumed}");
    assert_eq!(act("pause").await.1["status"], "paused");
    assert_eq!(act("resume").await.1["status"], "running");
    let (_, canceled) = act("cancel").await;
    assert_eq!(canceled["status"], "canceled");
    assert_eq!(canceled["counts"]["canceled"], 3);
    assert_eq!(act("pause").await.0, StatusCode::CONFLICT);
    // Someone else's campaign is not found.
    let stranger = common::user(&w.state, "other@example.com").await;
    let (_, token) = server::users::create_token(&w.state, &stranger.owner, "t").await.unwrap();
    let res = w.http.post(format!("{}/api/campaigns/{id}/pause", w.base)).bearer_auth(token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_contact_lists_bad_rows_are_reported_and_bad_settings_named() {
    let w = world().await;
    let phone = w.number(Provider::Twilio).await;
    let csv = "phone,name,timezone\n+14155550100,A,\nnot a number,B,\n+14155550101,C,Mars/Olympus\n+14155550100,D,\n";
    let created = w.campaign(json!({ "name": "Mixed", "agentId": w.agent, "phoneIds": [phone], "contactsCsv": csv })).await;
    assert_eq!(created["contacts"], 1);
    let rejected: Vec<(u64, String)> = created["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["errors"][0]["field"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(rejected, [(3, "phone".to_string()), (4, "timezone".into()), (5, "phone".into())]);
    for (body, field) in [
        (json!({ "name": "X", "agentId": w.agent, "phoneIds": [phone], "contactsCsv": "phone\nabc\n" }), "contactsCsv"),
        (json!({ "name": "X", "agentId": w.agent, "phoneIds": [], "contactsCsv": csv }), "phoneIds"),
        (json!({ "name": "X", "agentId": w.agent, "phoneIds": [phone], "contactsCsv": csv, "timezone": "Nowhere/City" }), "timezone"),
        (json!({ "name": "X", "agentId": "nope", "phoneIds": [phone], "contactsCsv": csv }), "agentId"),
        (json!({ "name": "X", "agentId": w.agent, "phoneIds": [phone], "contactsCsv": csv, "retryDelaySecs": 5 }), "retryDelaySecs"),
    ] {
        let (status, reply) = w.post("/api/campaigns", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{reply}");
        assert_eq!(reply["error"]["field"], field, "{reply}");
    }
    let list = common::get_json(&w.base, &w.token, "/api/campaigns").await;
    assert_eq!(list.as_array().unwrap().len(), 1, "refused campaigns wrote nothing");
}

/// The dialer writes a campaign's lease on every pass: a pause or resume sent at that moment must
/// still be answered, never a 500 (found by schemathesis: the write conflict reached the client).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pause_and_resume_while_the_dialer_holds_the_lease_are_answered() {
    let w = world().await;
    let phone = w.number(Provider::Twilio).await;
    let tomorrow = server::clock::rfc3339(w.state.clock.now() + chrono::Duration::days(1));
    let body =
        json!({ "name": "Busy", "agentId": w.agent, "phoneIds": [phone], "contactsCsv": contacts_csv(3, 4100), "startAt": tomorrow });
    let id = w.campaign(body).await["campaign"]["id"].as_str().unwrap().to_string();
    // The lease as the dialer writes it, every 10 ms (its pass does the same every 200 ms).
    let (state, lease_id) = (w.state.clone(), id.clone());
    let leasing = tokio::spawn(async move {
        loop {
            let now = state.clock.now();
            let until = server::clock::rfc3339(now + chrono::Duration::seconds(30));
            let _ = server::db::campaigns::lease(&state.db, &lease_id, &state.node, &server::clock::rfc3339(now), &until).await;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    for _ in 0..20 {
        for what in ["pause", "resume"] {
            let (status, answer) = w.post(&format!("/api/campaigns/{id}/{what}"), json!({})).await;
            assert!(status == StatusCode::OK || status == StatusCode::CONFLICT, "{what}: {status} {answer}");
        }
    }
    let (status, canceled) = w.post(&format!("/api/campaigns/{id}/cancel"), json!({})).await;
    leasing.abort();
    assert_eq!(status, StatusCode::OK, "{canceled}");
    assert_eq!(canceled["counts"]["canceled"], 3);
}
