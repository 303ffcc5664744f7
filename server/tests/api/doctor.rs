//! The provider check over real HTTP: each number's checklist (public URL, credentials,
//! ownership asked of a local provider cloud, stream settings, agent, status), each failure with
//! its fix and the setup guide's section, and the checklist of every number at once.

use crate::common::{self, TWILIO_SID, TWILIO_TOKEN};

use domain::phone_number::Provider;
use reqwest::Client;
use serde_json::{Value, json};
use server::simulator::cloud::{CloudAccount, CloudNumber};

fn by_id<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap_or_else(|| panic!("no {id} in {report}"))
}

#[tokio::test]
async fn each_number_gets_a_checklist_with_the_fix_for_every_failure() {
    let accounts = vec![CloudAccount {
        provider: Provider::Twilio,
        id: TWILIO_SID.into(),
        key: TWILIO_SID.into(),
        secret: TWILIO_TOKEN.into(),
        numbers: vec![CloudNumber { number: "+14155552671".into(), voice: true, app: None }],
        application_id: None,
        public_key: None,
        signature_secret: None,
    }];
    let (cloud, state, base) = common::cloud_server(accounts, |_| {}).await;
    let (user, token) = common::user_with_token(&state, "doctor@example.com").await;
    let http = Client::new();
    let get = |path: String| {
        let (token, base) = (token.clone(), base.clone());
        async move { common::get_json(&base, &token, &path).await }
    };

    // No agent yet: the number has nobody to answer.
    let good = common::twilio_number(&state, &user.owner, None, "active").await;
    let r = get(format!("/api/phone-numbers/{}/doctor", good.id)).await;
    assert_eq!(r["ok"], false);
    assert_eq!((by_id(&r, "agent")["status"].as_str(), by_id(&r, "agent")["guide"].as_str()), (Some("fail"), Some("#agent")), "{r}");
    // The public URL is this test's loopback address: no provider can reach it.
    let public = by_id(&r, "public_url");
    assert_eq!((public["status"].as_str(), public["guide"].as_str()), (Some("fail"), Some("#public-url")), "{public}");
    assert!(public["fix"].as_str().unwrap().contains("VOXGATE_PUBLIC_URL"));
    assert_eq!(by_id(&r, "credentials")["status"], "pass", "{r}");
    assert_eq!(by_id(&r, "ownership")["status"], "pass", "{r}");
    assert_eq!(by_id(&r, "stream_settings")["status"], "pass", "{r}");
    assert_eq!(by_id(&r, "number_status")["status"], "pass", "{r}");

    // An agent whose cloud provider cannot be reached, and a number its account does not have
    // (imported while the provider was busy), and an inactive one.
    let input: domain::agent::AgentInput = serde_json::from_value(json!({
        "name": "Cloudy", "greeting": "Hi",
        "providers": { "stt": "whisper-local", "llm": "openai", "tts": "piper-local", "baseUrl": "http://127.0.0.1:1/v1", "model": "m" }
    }))
    .unwrap();
    let agent = server::agents::create(&state, &user.owner, input).await.unwrap();
    cloud.rate_limit(1, 1);
    let stray = server::numbers::create(
        &state,
        &user.owner,
        &serde_json::from_value(json!({
            "phoneNumber": "+14155552672", "provider": "twilio", "status": "inactive", "linkedAgentId": agent.id,
            "twilioConfig": { "accountSid": TWILIO_SID, "authToken": TWILIO_TOKEN }
        }))
        .unwrap(),
    )
    .await
    .unwrap();
    let r = get(format!("/api/phone-numbers/{}/doctor", stray.id)).await;
    let own = by_id(&r, "ownership");
    assert_eq!((own["status"].as_str(), own["guide"].as_str()), (Some("fail"), Some("#twilio-ownership")), "{r}");
    assert!(own["message"].as_str().unwrap().contains("does not have +14155552672"), "{own}");
    assert_eq!(by_id(&r, "number_status")["status"], "fail");
    let agent_check = by_id(&r, "agent");
    assert_eq!(agent_check["status"], "fail", "{agent_check}");
    assert!(agent_check["message"].as_str().unwrap().contains("did not answer"), "{agent_check}");
    // The doctor stored what the provider said.
    let card: Value =
        http.get(format!("{base}/api/phone-numbers/{}", stray.id)).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(card["verification"]["status"], "not_owned", "{card}");

    let all = get("/api/doctor".into()).await;
    assert_eq!((all["numbers"].as_array().map(Vec::len), all["failing"].as_u64()), (Some(2), Some(2)), "{all}");
    let other = common::user_with_token(&state, "other@example.com").await.1;
    let r = http.get(format!("{base}/api/phone-numbers/{}/doctor", good.id)).bearer_auth(other).send().await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::NOT_FOUND, "another account's number is not found");
}
