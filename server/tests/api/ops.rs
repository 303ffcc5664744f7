//! What operators run Voxgate with: Prometheus /metrics (optionally behind a token) and JSON
//! logs that carry the call's, number's and user's ids and never a secret or a keypad digit.

use crate::common;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// The value of the sample line that starts with `prefix` (0 when absent).
fn sample(text: &str, prefix: &str) -> f64 {
    text.lines().find(|l| l.starts_with(prefix)).and_then(|l| l.rsplit(' ').next()?.parse().ok()).unwrap_or(0.0)
}

/// One whole Exotel call on `number` through `base`: start, 5 media frames, keypad digits, stop.
async fn call(base: &str, number: &domain::phone_number::PhoneNumberView, sid: &str) {
    // The server's public URL is its own address: the number's URLs reach it as they are.
    assert!(number.websocket_url.starts_with(&base.replace("http://", "ws://")), "{}", number.websocket_url);
    let (mut ws, _) = tokio_tungstenite::connect_async(number.websocket_url.as_str()).await.unwrap();
    ws.send(common::start_message(sid)).await.unwrap();
    let silence = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, vec![0u8; 3200]);
    for i in 0..5 {
        let media = json!({"event":"media","stream_sid":"MZ1","media":{"chunk":i.to_string(),"timestamp":"0","payload":silence}});
        ws.send(Message::Text(media.to_string().into())).await.unwrap();
    }
    ws.send(Message::Text(json!({"event":"dtmf","dtmf":{"digit":"4929123412341234","duration":"100"}}).to_string().into())).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    ws.send(Message::Text(r#"{"event":"stop","stop":{"reason":"callended"}}"#.into())).await.unwrap();
    while let Some(Ok(msg)) = ws.next().await {
        if matches!(msg, Message::Close(_)) {
            break;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_webhooks_frames_and_calls_under_templates_and_a_token_guards_them() {
    let token = "scrape-token-0123456789abcdef";
    let (state, base) = common::live_server_with(|s| s.ops.metrics_token = Some(server::config::Password(token.to_string()))).await;
    let user = common::user(&state, "metrics@example.com").await;
    let agent =
        server::agents::create(&state, &user.owner, domain::agent::AgentInput { name: "Desk".into(), ..Default::default() }).await.unwrap();
    let number = common::linked_number(&state, &user.owner, &agent.id).await;
    let http = reqwest::Client::new();
    let scrape = || http.get(format!("{base}/metrics")).bearer_auth(token).send();
    let before = scrape().await.unwrap().text().await.unwrap();

    let webhook = number.webhook_url.clone();
    let res = http.post(&webhook).form(&[("CallSid", "CAMETRICS1"), ("From", "+919876543210")]).send().await.unwrap();
    assert_eq!(res.status(), 200);
    call(&base, &number, "CAMETRICS1").await;

    // Without the token, or with another, nothing is shown.
    let bare = http.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(bare.status(), 401);
    assert_eq!(bare.json::<Value>().await.unwrap()["error"]["code"], "unauthorized");
    assert_eq!(http.get(format!("{base}/metrics")).bearer_auth("scrape-token-wrong-000000").send().await.unwrap().status(), 401);

    let res = scrape().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    let after = res.text().await.unwrap();
    let answered = r#"voxgate_http_request_duration_seconds_count{route="/api/telephony/webhook/{id}",method="POST",status="200"}"#;
    assert!(sample(&after, answered) >= sample(&before, answered) + 1.0, "{after}");
    let exotel = r#"voxgate_webhook_duration_seconds_count{provider="exotel"}"#;
    assert!(sample(&after, exotel) >= sample(&before, exotel) + 1.0);
    let frames = r#"voxgate_frames_received_total{provider="exotel"}"#;
    assert!(sample(&after, frames) >= sample(&before, frames) + 7.0, "start, 5 media, dtmf, stop: {after}");
    assert!(after.contains(r#"voxgate_calls_live{provider="exotel"}"#));
    assert!(after.contains(r#"voxgate_queue_depth{queue="calls"}"#));
    assert!(after.trim_end().ends_with("# EOF"));
    // Templates, never ids or secrets.
    for leak in [number.id.as_str(), &number.webhook_url, "CAMETRICS1", "metrics@example.com", "4929123412341234"] {
        assert!(!after.contains(leak), "{leak} in /metrics");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn json_logs_carry_call_number_and_user_ids_and_no_secret_or_keypad_digit() {
    let log = common::Captured::default();
    let writer = log.clone();
    let subscriber = server::telemetry::subscriber("info,server=trace", server::telemetry::LogFormat::Json, move || writer.clone());
    let _guard = tracing::subscriber::set_default(subscriber);

    let (state, base) = common::live_server().await;
    let user = common::user(&state, "json@example.com").await;
    let mut input = domain::agent::AgentInput { name: "Bank".into(), ..Default::default() };
    input.providers.api_key = "sk-json-log-secret-0123456789".into();
    let agent = server::agents::create(&state, &user.owner, input).await.unwrap();
    let number = common::linked_number(&state, &user.owner, &agent.id).await;
    let secret = number.webhook_url.split("key=").nth(1).unwrap().split('&').next().unwrap().to_string();
    let webhook = number.webhook_url.clone();
    let http = reqwest::Client::new();
    http.post(&webhook).form(&[("CallSid", "CAJSON1"), ("From", "+919876543210")]).send().await.unwrap();
    // A wrong key is refused and logged without the key given.
    let wrong = webhook.replace(&secret, "wrongkey0000000000000000");
    assert_eq!(http.post(&wrong).form(&[("CallSid", "CAJSON2")]).send().await.unwrap().status(), 401);
    call(&base, &number, "CAJSON1").await;

    let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect();
    assert!(lines.len() >= 3, "{text}");
    assert!(lines.iter().all(|l| l["timestamp"].is_string() && l["level"].is_string()), "{text}");
    // The ids are fields: the number's (from the request's span), the call's and the user's.
    let has = |field: &str, value: &str| {
        lines.iter().any(|l| l[field] == value || l["spans"].as_array().is_some_and(|s| s.iter().any(|s| s[field] == value)))
    };
    assert!(has("phone_id", &number.id), "{text}");
    assert!(has("user_id", user.owner.id()), "{text}");
    assert!(lines.iter().any(|l| l["call_sid"] == "CAJSON1" || l["call"].as_str().is_some_and(|c| c.contains("CAJSON1"))), "{text}");
    for leak in [secret.as_str(), "sk-json-log-secret-0123456789", "4929123412341234", "correct horse battery"] {
        assert!(!text.contains(leak), "{leak} in the log:\n{text}");
    }
}
