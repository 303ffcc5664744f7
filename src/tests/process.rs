//! The server process killed and stopped as production kills and stops it: `kill -9` during a
//! call and a burst of writes (every committed row survives; the call is failed at the next
//! start), and SIGTERM with a live call and an open event stream (the call says goodbye and
//! records its end, the stream closes, the process exits within the deadline).

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use super::{operator, start, voxgate};

/// A data directory with one account, and its API token.
pub(super) fn account(tag: &str) -> (PathBuf, String, String) {
    let data = std::env::temp_dir().join(format!("voxgate-{tag}-{}-{}", std::process::id(), rand_suffix()));
    let db = format!("surrealkv://{}", data.join("db").display());
    let added = operator(&data, &db, &["user", "add", "ops@example.com"], "correct horse battery\n");
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let token = operator(&data, &db, &["token", "create", "ops@example.com"], "");
    (data, db, String::from_utf8(token.stdout).unwrap().trim().to_string())
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() % 1_000_000_007
}

/// `voxgate serve` on `data`, with the repository's offline models when they are there.
pub(super) fn serve(data: &Path, db: &str, extra: &[(&str, &str)]) -> (Child, String) {
    let mut cmd = voxgate();
    cmd.env("VOXGATE_LISTEN_ADDR", "127.0.0.1:0").env("VOXGATE_DATA_DIR", data).env("VOXGATE_DATABASE_URL", db).env("VOXGATE_LOG", "warn");
    let models =
        std::env::var_os("VOXGATE_MODELS_DIR").map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("data/models"), PathBuf::from);
    if models.is_dir() {
        cmd.env("VOXGATE_MODELS_DIR", models);
    }
    for (k, v) in extra {
        cmd.env(k, v);
    }
    start(cmd)
}

struct Api {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.client.post(format!("{}{path}", self.base)).bearer_auth(&self.token).json(&body).send().await.unwrap()
    }
    async fn get(&self, path: &str) -> Value {
        let res = self.client.get(format!("{}{path}", self.base)).bearer_auth(&self.token).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        res.json().await.unwrap()
    }
    /// The call with this provider id, once it has `status` (waits up to 10 s).
    async fn call_with(&self, sid: &str, status: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let calls = self.get("/api/calls").await;
            let call = calls["calls"].as_array().unwrap().iter().find(|c| c["sessionId"] == sid).cloned();
            if let Some(c) = &call
                && c["status"] == status
            {
                return c.clone();
            }
            assert!(Instant::now() < deadline, "call {sid} never became {status}: {call:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    /// A number linked to a new agent; its stream URL on this server.
    async fn number(&self) -> String {
        let agent: Value = self.post("/api/agents", json!({ "name": "Desk" })).await.json().await.unwrap();
        let number = self
            .post("/api/phone-numbers", json!({ "phoneNumber": "+918047491899", "provider": "other", "linkedAgentId": agent["id"] }))
            .await;
        assert_eq!(number.status(), 201);
        let number: Value = number.json().await.unwrap();
        let url = number["websocketUrl"].as_str().unwrap();
        let path = &url[url.find("/api/").unwrap()..];
        format!("{}{path}", self.base.replace("http://", "ws://"))
    }
}

fn start_frame(sid: &str) -> Message {
    Message::Text(
        json!({"event":"start","stream_sid":"MZ1","start":{"stream_sid":"MZ1","call_sid":sid,"account_sid":"AC1","from":"+919876543210","to":"+918047491899","custom_parameters":{},"media_format":{"encoding":"audio/x-raw","sample_rate":"8000","bit_rate":"16"}}})
            .to_string()
            .into(),
    )
}

#[test]
fn kill_9_during_a_call_and_a_burst_of_writes_loses_no_committed_row() {
    let (data, db, token) = account("kill");
    let (mut child, base) = serve(&data, &db, &[]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let confirmed: Vec<String> = rt.block_on(async {
        let api = Api { client: reqwest::Client::new(), base: base.clone(), token: token.clone() };
        let ws_url = api.number().await;
        let (mut ws, _) = tokio_tungstenite::connect_async(&ws_url).await.unwrap();
        ws.send(start_frame("CAKILL")).await.unwrap();
        api.call_with("CAKILL", "in_progress").await;
        // A burst of writes; the process dies while they are in flight.
        let api = std::sync::Arc::new(api);
        let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        for i in 0..60 {
            let (api, done) = (api.clone(), done_tx.clone());
            tokio::spawn(async move {
                let res = api
                    .client
                    .post(format!("{}/api/agents", api.base))
                    .bearer_auth(&api.token)
                    .json(&json!({ "name": format!("Burst {i}") }))
                    .send()
                    .await;
                if let Ok(res) = res
                    && res.status() == 201
                    && let Ok(body) = res.json::<Value>().await
                {
                    let _ = done.send(body["id"].as_str().unwrap_or_default().to_string());
                }
            });
        }
        drop(done_tx);
        let mut confirmed = Vec::new();
        while confirmed.len() < 10 {
            confirmed.push(done_rx.recv().await.expect("writes are confirmed"));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        // Answers that were already on their way count as committed too.
        while let Ok(Some(id)) = tokio::time::timeout(Duration::from_millis(500), done_rx.recv()).await {
            confirmed.push(id);
        }
        confirmed
    });
    assert!(confirmed.len() < 60, "the kill came mid-burst");

    let restarted = Instant::now();
    let (mut child, base) = serve(&data, &db, &[]);
    rt.block_on(async {
        let api = Api { client: reqwest::Client::new(), base, token };
        let call = api.call_with("CAKILL", "failed").await;
        assert_eq!(call["reason"], "server restarted");
        assert!(restarted.elapsed() < Duration::from_secs(15), "{:?}", restarted.elapsed());
        let agents = api.get("/api/agents").await;
        let ids: Vec<&str> = agents.as_array().unwrap().iter().filter_map(|a| a["id"].as_str()).collect();
        for id in &confirmed {
            assert!(ids.contains(&id.as_str()), "agent {id} was confirmed (201) before the kill but is gone");
        }
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = std::fs::remove_dir_all(data);
}

#[test]
fn sigterm_ends_a_live_call_with_goodbye_closes_event_streams_and_exits_in_time() {
    let (data, db, token) = account("term");
    let (mut child, base) = serve(&data, &db, &[("VOXGATE_SHUTDOWN_SECONDS", "5")]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let exited_in = rt.block_on(async {
        let api = Api { client: reqwest::Client::new(), base: base.clone(), token: token.clone() };
        let ws_url = api.number().await;
        let live = api.client.get(format!("{base}/api/calls/live")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(live.status(), 200);
        let (mut ws, _) = tokio_tungstenite::connect_async(&ws_url).await.unwrap();
        ws.send(start_frame("CATERM")).await.unwrap();
        api.call_with("CATERM", "in_progress").await;

        let sent = Instant::now();
        Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
        let close = loop {
            match tokio::time::timeout(Duration::from_secs(8), ws.next()).await.expect("the call ended") {
                Some(Ok(Message::Close(frame))) => break frame.map(|f| (u16::from(f.code), f.reason.to_string())),
                Some(Ok(_)) => {}
                other => panic!("the stream ended without a close frame: {other:?}"),
            }
        };
        assert_eq!(close, Some((1001, "server shutting down".to_string())));
        // The event stream ends.
        let mut body = live.bytes_stream();
        let ended = tokio::time::timeout(Duration::from_secs(5), async { while let Some(Ok(_)) = body.next().await {} }).await;
        assert!(ended.is_ok(), "the event stream stayed open");
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                assert!(status.success(), "{status:?}");
                break sent.elapsed();
            }
            assert!(sent.elapsed() < Duration::from_secs(8), "no exit within the 5 s deadline");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    assert!(exited_in < Duration::from_millis(6500), "{exited_in:?}");

    // The end was recorded before the exit: the next start finds it completed, not failed.
    let (mut child, base) = serve(&data, &db, &[]);
    rt.block_on(async {
        let api = Api { client: reqwest::Client::new(), base, token };
        let call = api.call_with("CATERM", "completed").await;
        assert_eq!(call["reason"], "server shutting down");
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = std::fs::remove_dir_all(data);
}

#[test]
fn an_invite_only_server_asks_for_a_code_the_operator_printed() {
    let (data, db, _) = account("invite");
    let invite = operator(&data, &db, &["invite", "create", "--days", "2"], "");
    assert!(invite.status.success(), "{}", String::from_utf8_lossy(&invite.stderr));
    let code = String::from_utf8(invite.stdout).unwrap().trim().to_string();
    assert!(code.starts_with("inv_"), "{code}");
    let (mut child, base) = serve(&data, &db, &[("VOXGATE_SIGNUP", "invite")]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let signup = |form: Vec<(&'static str, String)>| {
            client.post(format!("{base}/api/auth/signup")).header("origin", &base).header("accept", "text/html").form(&form).send()
        };
        let mode: Value =
            client.post(format!("{base}/api/auth/signup-mode")).header("origin", &base).send().await.unwrap().json().await.unwrap();
        assert_eq!(mode, "invite");
        let pw = "correct horse battery".to_string();
        let missing = signup(vec![("email", "new@example.com".into()), ("password", pw.clone())]).await.unwrap();
        assert_eq!(missing.status(), 400);
        assert_eq!(missing.json::<Value>().await.unwrap()["Invalid"]["field"], "invite");
        let ok = signup(vec![("email", "new@example.com".into()), ("password", pw.clone()), ("invite", code.clone())]).await.unwrap();
        assert!(ok.status().is_redirection(), "{}", ok.status());
        let reused = signup(vec![("email", "other@example.com".into()), ("password", pw), ("invite", code)]).await.unwrap();
        assert_eq!(reused.status(), 400);
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = std::fs::remove_dir_all(data);
}
