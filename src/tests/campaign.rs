//! Outbound calls through a real `voxgate serve` process, the local provider cloud (in this test
//! process) playing Twilio's Calls API and every callee: `voxgate dial` followed to the call's
//! end, and a campaign killed with `kill -9` in the middle and started again on the same data,
//! the provider refusing some dials with 429. Reports the dial rate held, double-dials (must be
//! 0) and contacts lost (must be 0).

use std::time::{Duration, Instant};

use domain::phone_number::Provider;
use serde_json::{Value, json};
use server::simulator::cloud::{Cloud, CloudAccount, CloudNumber};

use super::process::{account, serve};

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "f00dfacef00dfacef00dfacef00dface";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn post(http: &reqwest::Client, base: &str, token: &str, path: &str, body: Value) -> Value {
    let res = http.post(format!("{base}{path}")).bearer_auth(token).json(&body).send().await.unwrap();
    assert!(res.status().is_success(), "{path}: {}", res.status());
    res.json().await.unwrap()
}

async fn get(http: &reqwest::Client, base: &str, token: &str, path: &str) -> Value {
    http.get(format!("{base}{path}")).bearer_auth(token).send().await.unwrap().json().await.unwrap()
}

/// The local cloud as Twilio, owning our number, served on loopback; its API's base URL.
fn twilio_cloud(rt: &tokio::runtime::Runtime) -> (Cloud, String) {
    let number = CloudNumber { number: "+14155552671".into(), voice: true, app: None };
    let cloud = Cloud::new(vec![CloudAccount::new(Provider::Twilio, SID, SID, TOKEN, vec![number])]);
    let api = format!("http://{}", rt.block_on(server::simulator::cloud::start(cloud.clone())).unwrap());
    (cloud, api)
}

/// An agent greeting with `greeting` and our Twilio number linked to it; (agent id, number id).
async fn agent_and_number(http: &reqwest::Client, base: &str, token: &str, greeting: &str) -> (Value, String) {
    let agent = post(http, base, token, "/api/agents", json!({ "name": "Reminders", "greeting": greeting })).await;
    let number = post(
        http,
        base,
        token,
        "/api/phone-numbers",
        json!({
        "phoneNumber": "+14155552671", "provider": "twilio", "linkedAgentId": agent["id"],
        "twilioConfig": { "accountSid": SID, "authToken": TOKEN } }),
    )
    .await;
    (agent["id"].clone(), number["id"].as_str().unwrap().to_string())
}

#[test]
fn a_campaign_killed_mid_run_resumes_without_double_dialing_or_losing_a_contact() {
    let contacts: usize = std::env::var("VOXGATE_TEST_CAMPAIGN_CONTACTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let (data, db, token) = account("campaign");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (cloud, api) = twilio_cloud(&rt);
    // A provider that takes 10 dials a second while the campaign asks for 20.
    cloud.dial_rate(Some(10));
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let public = format!("http://{listen}");
    let env = [
        ("VOXGATE_LISTEN_ADDR", listen.as_str()),
        ("VOXGATE_PUBLIC_URL", public.as_str()),
        ("VOXGATE_TWILIO_API_URL", api.as_str()),
        ("VOXGATE_MAX_CALLS", "100"),
    ];
    let (mut child, base) = serve(&data, &db, &env);
    let http = reqwest::Client::new();
    let started = Instant::now();
    let id = rt.block_on(async {
        let (agent, phone) = agent_and_number(&http, &base, &token, "Hi.").await;
        let mut csv = String::from("phone,name\n");
        for i in 0..contacts {
            csv.push_str(&format!("+1415{:07},C{i}\n", 2_000_000 + i));
        }
        let created = post(
            &http,
            &base,
            &token,
            "/api/campaigns",
            json!({
            "name": "Kill test", "agentId": agent, "phoneIds": [phone], "contactsCsv": csv,
            "maxConcurrent": 20, "callsPerSecond": 20.0, "maxAttempts": 1, "retryDelaySecs": 60 }),
        )
        .await;
        assert_eq!(created["contacts"], contacts as u64);
        created["campaign"]["id"].as_str().unwrap().to_string()
    });
    // Half way through, the process dies without a word.
    // At least one dial a second is far below what the campaign and the provider allow.
    let budget = Duration::from_secs(60 + contacts as u64);
    let deadline = Instant::now() + budget;
    while cloud.dials().len() < contacts / 2 {
        assert!(Instant::now() < deadline, "the campaign did not get half way: {} dials", cloud.dials().len());
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let at_kill = cloud.dials().len();
    let (mut child, base) = serve(&data, &db, &env);
    let done = rt.block_on(async {
        let deadline = Instant::now() + budget;
        loop {
            let c = get(&http, &base, &token, &format!("/api/campaigns/{id}")).await;
            if c["status"] == "completed" {
                return c;
            }
            assert!(Instant::now() < deadline, "the campaign did not complete after the restart: {c}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    });
    let elapsed = started.elapsed();
    child.kill().unwrap();
    child.wait().unwrap();
    let dials = cloud.dials();
    let mut seen = std::collections::HashSet::new();
    let twice = dials.iter().filter(|d| !seen.insert(d.to.clone())).count();
    let counts = &done["counts"];
    let lost = counts["remaining"].as_i64().unwrap() + counts["inProgress"].as_i64().unwrap();
    let settled = counts["answered"].as_i64().unwrap()
        + counts["failed"].as_i64().unwrap()
        + counts["noAnswer"].as_i64().unwrap()
        + counts["busy"].as_i64().unwrap()
        + counts["machine"].as_i64().unwrap();
    println!(
        "campaign: {contacts} contacts, {} dials ({at_kill} before kill -9) in {:.1} s ({:.1} dials/s), refused with 429: {}, peak concurrent {}, double-dials {}, dialed twice {twice}, lost {lost}",
        dials.len(),
        elapsed.as_secs_f64(),
        dials.len() as f64 / elapsed.as_secs_f64(),
        cloud.refused_dials(),
        cloud.peak_live(),
        cloud.overlapping(),
    );
    assert!(cloud.refused_dials() > 0, "the provider's 429s were met");
    assert_eq!(cloud.overlapping(), 0, "a contact dialed while its call was live");
    assert_eq!(twice, 0, "with one attempt each, no contact is dialed twice");
    assert_eq!(lost, 0, "every contact reached an end");
    assert_eq!(settled, contacts as i64, "{counts}");
    assert!(cloud.peak_live() <= 20, "at most 20 calls at once, saw {}", cloud.peak_live());
    assert!(counts["answered"].as_i64().unwrap() as usize >= contacts * 8 / 10, "most contacts were reached: {counts}");
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn voxgate_dial_places_a_call_and_follows_it_to_its_end() {
    let (data, db, token) = account("dial");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (cloud, api) = twilio_cloud(&rt);
    let listen = format!("127.0.0.1:{}", free_port());
    let public = format!("http://{listen}");
    let env = [("VOXGATE_LISTEN_ADDR", listen.as_str()), ("VOXGATE_PUBLIC_URL", public.as_str()), ("VOXGATE_TWILIO_API_URL", api.as_str())];
    let (mut child, base) = serve(&data, &db, &env);
    let http = reqwest::Client::new();
    let (_, phone) = rt.block_on(agent_and_number(&http, &base, &token, "Hello {{name}}."));
    let dial = |args: &[&str]| {
        let out =
            super::voxgate().args(["dial", "--url", &base, "--phone", &phone]).args(args).env("VOXGATE_TOKEN", &token).output().unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
    };
    let (ok, out) = dial(&["--to", "+14155550199", "--var", "name=Asha", "--wait"]);
    assert!(ok, "{out}");
    assert!(out.contains("to +14155550199 from +14155552671: ringing"), "{out}");
    assert!(out.contains("ended completed: outcome answered"), "{out}");
    assert!(out.contains("agent  Hello Asha."), "{out}");
    let (ok, out) = dial(&["--to", "12345"]);
    assert!(!ok && out.contains("to: Use the international format"), "{out}");
    let (ok, out) = dial(&["--to", "+14155550199", "--var", "oops"]);
    assert!(!ok && out.contains("write name=value"), "{out}");
    assert_eq!(cloud.dials().len(), 1, "refused requests dial no one");
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = std::fs::remove_dir_all(&data);
}
