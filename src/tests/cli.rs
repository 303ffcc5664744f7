//! The `voxgate` binary as an operator meets it: bad settings, a real start, SIGTERM.

mod campaign;
mod numbers;
mod process;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

fn voxgate() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_voxgate"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("VOXGATE_")) {
        cmd.env_remove(k);
    }
    cmd
}

/// Runs an operator command on the embedded file database `db` under `data`, feeding `stdin`.
fn operator(data: &std::path::Path, db: &str, args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = voxgate()
        .args(args)
        .env("VOXGATE_DATA_DIR", data)
        .env("VOXGATE_DATABASE_URL", db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// Starts `cmd` as a server and returns it with the base URL it printed.
fn start(mut cmd: Command) -> (std::process::Child, String) {
    let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.trim().strip_prefix("voxgate listening on ").expect(&line).to_string();
    (child, base)
}

#[test]
fn a_bad_setting_stops_startup_with_one_line_naming_it() {
    for (name, value) in [
        ("VOXGATE_LISTEN_ADDR", "localhost"),
        ("VOXGATE_DATABASE_URL", "mysql://db"),
        ("VOXGATE_PUBLIC_URL", "voice.example.com"),
        ("VOXGATE_SECRET_KEY", "short-secret-value"),
    ] {
        let out = voxgate().env(name, value).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with(&format!("voxgate: invalid setting {name}")), "{stderr}");
        if name == "VOXGATE_SECRET_KEY" {
            assert!(!stderr.contains(value), "the secret must not be echoed: {stderr}");
        }
    }
}

#[test]
fn production_mode_refuses_a_loopback_or_http_public_url_unless_told_and_logs_json() {
    for url in ["http://127.0.0.1:3000", "https://127.0.0.1:3000", "http://voice.example.com"] {
        let out = voxgate().env("VOXGATE_MODE", "production").env("VOXGATE_PUBLIC_URL", url).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{url}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.starts_with("voxgate: invalid setting VOXGATE_PUBLIC_URL"), "{stderr}");
        assert!(stderr.contains("VOXGATE_ALLOW_INSECURE_URL"), "{stderr}");
    }
    // Told so, it starts, and logs one JSON object per line.
    let data = std::env::temp_dir().join(format!("voxgate-prod-{}", std::process::id()));
    let mut cmd = voxgate();
    cmd.arg("serve")
        .env("VOXGATE_MODE", "production")
        .env("VOXGATE_ALLOW_INSECURE_URL", "true")
        .env("VOXGATE_LOG_FORMAT", "json")
        .env("VOXGATE_DATABASE_URL", "mem://")
        .env("VOXGATE_DATA_DIR", &data)
        .env("VOXGATE_SECRET_KEY", "ab".repeat(32))
        .env("VOXGATE_LISTEN_ADDR", "127.0.0.1:0")
        .stderr(Stdio::piped());
    let (child, base) = start(cmd);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let status = rt.block_on(async { reqwest::get(format!("{base}/metrics")).await.unwrap().status() });
    assert_eq!(status, 200);
    Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<serde_json::Value> =
        stderr.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}"))).collect();
    assert!(lines.iter().any(|l| l["message"] == "voxgate listening"), "{stderr}");
    assert!(!stderr.contains(&"ab".repeat(32)));
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn config_prints_settings_without_secrets() {
    let key = "cd".repeat(32);
    let out = voxgate().arg("config").env("VOXGATE_SECRET_KEY", &key).output().unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("public_url"), "{stdout}");
    assert!(stdout.contains("VOXGATE_DATABASE_URL"), "lists the environment variables: {stdout}");
    assert!(!stdout.contains(&key), "{stdout}");
}

#[test]
fn serves_dashboard_and_server_functions_then_stops_on_sigterm() {
    let data = std::env::temp_dir().join(format!("voxgate-cli-{}", std::process::id()));
    let mut cmd = voxgate();
    cmd.env("VOXGATE_LISTEN_ADDR", "127.0.0.1:0")
        .env("VOXGATE_DATA_DIR", &data)
        .env("VOXGATE_DATABASE_URL", "mem://")
        .env("VOXGATE_LOG", "warn");
    let (mut child, base) = start(cmd);

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let res = client.get(format!("{base}/setup")).send().await.unwrap();
        assert_eq!(res.status(), 303, "pages need a session");
        assert_eq!(res.headers()["location"], "/login?next=/setup");

        // Sign up through the same server function the sign-up form posts to.
        let res = client
            .post(format!("{base}/api/auth/signup"))
            .header("origin", &base)
            .header("accept", "text/html")
            .form(&[("email", "op@example.com"), ("password", "correct horse battery")])
            .send()
            .await
            .unwrap();
        assert!(res.status().is_redirection(), "{}", res.status());
        assert_eq!(res.headers()["location"], "/numbers");
        let cookie = res.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
        assert!(cookie.starts_with("vg_session="));

        let html = client.get(format!("{base}/setup")).header("cookie", &cookie).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("Setup Guide") && html.contains("/pkg/voxgate.js"), "{html}");

        // The same server function the Setup Guide's button calls, over plain HTTP.
        let mut totals = Vec::new();
        for _ in 0..2 {
            let res =
                client.post(format!("{base}/api/system/check")).header("cookie", &cookie).header("origin", &base).send().await.unwrap();
            assert_eq!(res.status(), 200);
            let body: serde_json::Value = res.json().await.unwrap();
            totals.push(body["total"].as_i64().unwrap());
            assert!(body["schema_version"].as_i64().unwrap() >= 2);
        }
        assert_eq!(totals[1], totals[0] + 1);
    });
    // The key was generated into the data directory on first run.
    assert_eq!(std::fs::read_to_string(data.join("secret.key")).unwrap().len(), 64);

    Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
    let mut waited = Duration::ZERO;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(waited < Duration::from_secs(10), "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
        waited += Duration::from_millis(50);
    };
    assert!(status.success(), "graceful shutdown exits 0: {status:?}");
    let _ = std::fs::remove_dir_all(data);
}

#[test]
fn server_function_errors_carry_a_status_and_name_the_field() {
    let mut cmd = voxgate();
    cmd.env("VOXGATE_LISTEN_ADDR", "127.0.0.1:0")
        .env("VOXGATE_DATABASE_URL", "mem://")
        .env("VOXGATE_SECRET_KEY", "ab".repeat(32))
        .env("VOXGATE_LOG", "error");
    let (mut child, base) = start(cmd);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let client = reqwest::Client::new();
        let post = |path: &str, form: &[(&str, &str)]| client.post(format!("{base}{path}")).header("origin", &base).form(form).send();
        let bad_email = post("/api/auth/signup", &[("email", "nope"), ("password", "correct horse battery")]).await.unwrap();
        assert_eq!(bad_email.status(), 400);
        let body: serde_json::Value = bad_email.json().await.unwrap();
        assert_eq!(body["Invalid"]["field"], "email", "{body}");

        let wrong = post("/api/auth/login", &[("email", "nobody@example.com"), ("password", "whatever123")]).await.unwrap();
        assert_eq!(wrong.status(), 401);
        let anonymous = post("/api/system/check", &[]).await.unwrap();
        assert_eq!(anonymous.status(), 401);
        let cross_site = client
            .post(format!("{base}/api/auth/login"))
            .header("origin", "https://evil.example.com")
            .form(&[("email", "a@example.com"), ("password", "whatever123")])
            .send()
            .await
            .unwrap();
        assert_eq!(cross_site.status(), 403);
    });
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn operator_commands_create_accounts_and_tokens_and_respect_a_running_server() {
    let data = std::env::temp_dir().join(format!("voxgate-op-{}", std::process::id()));
    let db = format!("surrealkv://{}", data.join("db").display());
    let run = |args: &[&str], stdin: &str| operator(&data, &db, args, stdin);
    let added = run(&["user", "add", "Ops@Example.com"], "correct horse battery\n");
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    assert_eq!(String::from_utf8_lossy(&added.stdout).trim(), "created account ops@example.com");
    let short = run(&["user", "add", "other@example.com"], "short\n");
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 10 characters"));
    let token = run(&["token", "create", "ops@example.com"], "");
    assert!(token.status.success());
    let token = String::from_utf8(token.stdout).unwrap().trim().to_string();
    assert!(token.starts_with("vg_"), "{token}");
    let unknown = run(&["token", "create", "ghost@example.com"], "");
    assert!(!unknown.status.success());

    // With the server holding the embedded file, the commands say so.
    let mut cmd = voxgate();
    cmd.env("VOXGATE_LISTEN_ADDR", "127.0.0.1:0")
        .env("VOXGATE_DATA_DIR", &data)
        .env("VOXGATE_DATABASE_URL", &db)
        .env("VOXGATE_LOG", "error");
    let (mut server, base) = start(cmd);
    let held = run(&["user", "add", "late@example.com"], "correct horse battery\n");
    assert!(!held.status.success());
    assert!(
        String::from_utf8_lossy(&held.stderr).contains("held by a running voxgate server"),
        "{}",
        String::from_utf8_lossy(&held.stderr)
    );
    // The token made while the server was stopped works against it.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let me: serde_json::Value = rt.block_on(async {
        reqwest::Client::new().get(format!("{base}/api/me")).bearer_auth(&token).send().await.unwrap().json().await.unwrap()
    });
    assert_eq!(me["email"], "ops@example.com");
    server.kill().unwrap();
    server.wait().unwrap();
    let _ = std::fs::remove_dir_all(data);
}

#[test]
fn call_places_a_simulated_exotel_call_and_prints_the_transcript() {
    let data = std::env::temp_dir().join(format!("voxgate-call-cli-{}", std::process::id()));
    let db = format!("surrealkv://{}", data.join("db").display());
    let _ = std::fs::create_dir_all(&data);
    let op = |args: &[&str], stdin: &str| String::from_utf8(operator(&data, &db, args, stdin).stdout).unwrap();
    op(&["user", "add", "desk@example.com"], "correct horse battery\n");
    let token = op(&["token", "create", "desk@example.com"], "").trim().to_string();
    // Webhook URLs must point at the real port.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut cmd = voxgate();
    cmd.env("VOXGATE_LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("VOXGATE_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        .env("VOXGATE_DATA_DIR", &data)
        .env("VOXGATE_DATABASE_URL", &db)
        .env("VOXGATE_MODELS_DIR", concat!(env!("CARGO_MANIFEST_DIR"), "/data/models"))
        // Everything down to debug, into a file: the numbers' URL secrets must not be in it.
        .env("VOXGATE_LOG", "debug,surrealdb=warn")
        .stderr(std::fs::File::create(data.join("server.log")).unwrap());
    let (mut server, base) = start(cmd);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let webhook = rt.block_on(async {
        let c = reqwest::Client::new();
        let post = |path: &str, body: serde_json::Value| {
            let req = c.post(format!("{base}{path}")).bearer_auth(&token).json(&body);
            async move { req.send().await.unwrap().json::<serde_json::Value>().await.unwrap() }
        };
        let agent = post(
            "/api/agents",
            serde_json::json!({"name": "Desk", "rules": [{"keywords": ["opening hours", "open"], "reply": "We are open nine to five."}]}),
        )
        .await;
        let number = post(
            "/api/phone-numbers",
            serde_json::json!({"phoneNumber": "+918047491899", "provider": "other", "linkedAgentId": agent["id"]}),
        )
        .await;
        number["webhookUrl"].as_str().expect("webhook URL").to_string()
    });
    let wav = data.join("agent.wav");
    let out = voxgate()
        .args(["call", &webhook, "--say", "Hi, what are your opening hours?", "--record"])
        .arg(&wav)
        .env("VOXGATE_TOKEN", &token)
        .env("VOXGATE_MODELS_DIR", concat!(env!("CARGO_MANIFEST_DIR"), "/data/models"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("greeting   first audio"), "{stdout}");
    assert!(stdout.contains("agent replied after"), "{stdout}");
    let transcript = stdout.split("transcript (").nth(1).expect("the stored transcript is printed").to_lowercase();
    assert!(transcript.contains("agent  we are open nine to five."), "{stdout}");
    assert!(transcript.lines().any(|l| l.trim_start().starts_with("caller") && l.contains("opening")), "what Whisper heard: {stdout}");
    assert!(std::fs::metadata(&wav).unwrap().len() > 16_000, "the agent's audio was recorded");
    server.kill().unwrap();
    server.wait().unwrap();
    let log = std::fs::read_to_string(data.join("server.log")).unwrap();
    let secret = webhook.split("key=").nth(1).unwrap().split('&').next().unwrap();
    assert!(log.contains("/api/telephony/ws/"), "the stream's requests are logged (by path)");
    assert!(!log.contains(secret), "a number's URL secret reached the log");
    let _ = std::fs::remove_dir_all(data);
}

#[test]
fn say_writes_the_offline_voice_to_a_wav_file_with_silence_around_it() {
    let dir = std::env::temp_dir().join(format!("voxgate-say-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("line.wav");
    let done = voxgate().args(["say", "What are your opening hours?", "--out"]).arg(&out).args(["--pad-ms", "1000"]).output().unwrap();
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    let (samples, rate) = server::voice::audio::read_wav(&out).unwrap();
    assert_eq!(rate, 16_000);
    // One second of silence each side, speech between.
    assert!(samples.len() > 2 * 16_000 + 8_000, "{} samples", samples.len());
    assert!(samples[..16_000].iter().all(|s| *s == 0) && samples[samples.len() - 16_000..].iter().all(|s| *s == 0));
    assert!(samples[16_000..samples.len() - 16_000].iter().any(|s| s.unsigned_abs() > 1000), "speech is heard");
    let bad = voxgate().args(["say", "hi", "--out"]).arg(dir.join("x.wav")).args(["--rate", "100"]).output().unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--rate must be 8000..48000 Hz"));
    assert!(!dir.join("x.wav").exists());
    // A Hindi line, spoken by eSpeak NG; a language without a caller voice is refused.
    let hindi = dir.join("hi.wav");
    let done = voxgate().args(["say", "नमस्ते, आपके खुलने का समय क्या है?", "--language", "hi", "--out"]).arg(&hindi).output().unwrap();
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    let (samples, _) = server::voice::audio::read_wav(&hindi).unwrap();
    assert!(samples.len() > 16_000 && server::voice::audio::rms(&samples) > 0.02, "Hindi speech is heard");
    let bad = voxgate().args(["say", "bonjour", "--language", "fr", "--out"]).arg(dir.join("fr.wav")).output().unwrap();
    assert!(!bad.status.success() && !dir.join("fr.wav").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
