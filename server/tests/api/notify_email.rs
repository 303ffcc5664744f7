//! E-mail alerts through a real SMTP server process: Python's aiosmtpd (Debian's
//! python3-aiosmtpd, installed by the set-up command) on a free loopback port, writing each
//! message it receives into a Maildir that the tests read.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use domain::notify::{DeliveryState, NotificationInput};
use server::config::notify::{SmtpSettings, SmtpTls};

use crate::common;
use crate::common::webhooks::{Receiver, settings, settled, state_with};

/// An aiosmtpd process; killed when dropped.
struct SmtpServer {
    port: u16,
    dir: PathBuf,
    _child: tokio::process::Child,
}

impl SmtpServer {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = std::env::temp_dir().join(format!("voxgate-smtp-{}", server::db::new_key()));
        // Debian's interpreter, where python3-aiosmtpd is installed (a pyenv on PATH lacks it).
        std::fs::create_dir_all(&dir).unwrap();
        let python = if std::path::Path::new("/usr/bin/python3").exists() { "/usr/bin/python3" } else { "python3" };
        let child = tokio::process::Command::new(python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(dir.join("mail"))
            .kill_on_drop(true)
            .spawn()
            .expect("aiosmtpd (scripts/setup.sh installs python3-aiosmtpd)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self { port, dir, _child: child }
    }

    fn settings(&self) -> SmtpSettings {
        SmtpSettings {
            host: "127.0.0.1".into(),
            port: self.port,
            tls: SmtpTls::None,
            username: None,
            password: None,
            from: "voxgate@example.com".into(),
        }
    }

    /// The messages received so far, raw.
    fn messages(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.dir.join("mail").join("new")) else { return Vec::new() };
        entries.filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok()).collect()
    }

    async fn wait_for(&self, n: usize, secs: u64) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while self.messages().len() < n && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.messages()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The value of header `name` in a raw message.
fn header<'a>(message: &'a str, name: &str) -> Option<&'a str> {
    message.lines().take_while(|l| !l.is_empty()).find_map(|l| l.strip_prefix(&format!("{name}: ")))
}

#[tokio::test]
async fn chosen_alerts_reach_the_smtp_server_once_each_without_secrets() {
    let smtp = SmtpServer::start().await;
    let mut s = settings(&[200]);
    s.notify.smtp = Some(smtp.settings());
    let state = state_with(s).await;
    let receiver = Receiver::start(&[]).await;
    let user = common::user(&state, "ana@example.com").await;
    let input = NotificationInput {
        webhook_url: receiver.url.clone(),
        email_to: "ops@example.com".into(),
        email_events: vec!["call_failed".into(), "transfer_requested".into(), "keyword".into()],
        keywords: vec!["Refund".into()],
        ..Default::default()
    };
    let secret = server::notify::settings::save(&state, &user.owner, input).await.unwrap().new_secret.unwrap();
    common::place_call(&state, &user, "CA2001").await;
    let key = "exotel_CA2001";

    // A key word in a stored caller turn (the hook the conversation calls after each write).
    let turn = |text: &str| common::webhooks::speech_turn(&state, key, &user.owner, 2, domain::call::Role::Caller, text);
    server::notify::caller_turn(&state.db, &turn("I was promised a REFUND, you know."));
    server::notify::caller_turn(&state.db, &turn("About that refund..."));
    server::notify::caller_turn(&state.db, &turn("Refunded twice? No."));
    // The future transfer work calls this.
    assert!(server::notify::transfer_requested(&state, &user.owner, key, "+14155550100").await.unwrap());
    assert!(!server::notify::transfer_requested(&state, &user.owner, key, "+14155550100").await.unwrap(), "once per call");
    // The call fails.
    let now = state.clock.now_rfc3339();
    server::db::calls::set_status(&state.db, key, domain::call::CallStatus::Failed, Some("Exotel: network"), Some(&now), None)
        .await
        .unwrap();
    server::notify::call_ended(&state, key);

    let messages = smtp.wait_for(3, 20).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(smtp.messages().len(), 3, "one per event: {messages:#?}");
    let mut subjects: Vec<&str> = messages.iter().filter_map(|m| header(m, "Subject")).collect();
    subjects.sort();
    assert_eq!(
        subjects,
        [
            "[Voxgate] \"refund\" said on +918047491801",
            "[Voxgate] Call failed on +918047491801",
            "[Voxgate] Transfer requested on +918047491801"
        ]
    );
    for m in &messages {
        assert_eq!(header(m, "To"), Some("ops@example.com"), "{m}");
        assert_eq!(header(m, "From"), Some("voxgate@example.com"));
        assert!(m.contains("Call: exotel_CA2001"), "{m}");
        assert!(!m.contains(&secret) && !m.contains("whsec_"), "no secret in an e-mail");
    }
    let transfer = messages.iter().find(|m| m.contains("Transfer requested")).unwrap();
    assert!(transfer.contains("+14155550100"));
    let failed = messages.iter().find(|m| m.contains("Call failed")).unwrap();
    assert!(failed.contains("Reason: Exotel: network"));
    // The webhook heard the call's end too; the log holds all four, delivered.
    receiver.wait_for(1, 10).await;
    let log = settled(&state, &user.owner, DeliveryState::Delivered, 10).await;
    assert_eq!(log.len(), 4, "{log:?}");
    assert_eq!(log.iter().filter(|d| d.channel == domain::notify::Channel::Email && d.last_status == Some(250)).count(), 3);
}

#[tokio::test]
async fn an_unreachable_smtp_server_is_retried_then_given_up() {
    let smtp = SmtpServer::start().await;
    let mut s = settings(&[200]);
    // The server above proves aiosmtpd runs; this state points one port off, where nothing listens.
    let mut closed = smtp.settings();
    closed.port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    s.notify.smtp = Some(closed);
    let state = state_with(s).await;
    let user = common::user(&state, "ana@example.com").await;
    let input =
        NotificationInput { email_to: "ops@example.com".into(), email_events: vec!["transfer_requested".into()], ..Default::default() };
    server::notify::settings::save(&state, &user.owner, input).await.unwrap();
    assert!(server::notify::transfer_requested(&state, &user.owner, "exotel_CA1", "+14155550100").await.unwrap());
    let log = settled(&state, &user.owner, DeliveryState::Failed, 15).await;
    assert_eq!((log[0].state, log[0].attempts), (DeliveryState::Failed, 2), "{log:?}");
    let error = log[0].last_error.as_deref().unwrap();
    assert!(error.starts_with("SMTP:") && error.contains("gave up after 2 tries"), "{error}");
    assert!(smtp.messages().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_word_spoken_in_a_real_call_is_e_mailed() {
    let _voice = common::voice_lock().await;
    let smtp = SmtpServer::start().await;
    let settings = smtp.settings();
    let (state, _base) = common::live_server_with(move |s| {
        s.notify.smtp = Some(settings);
        s.notify.retries = vec![Duration::from_millis(200)];
    })
    .await;
    server::notify::worker::spawn(state.clone());
    let user = common::user(&state, "ana@example.com").await;
    let input = domain::agent::AgentInput { name: "Clinic".into(), ..Default::default() };
    let agent = server::agents::create(&state, &user.owner, input.clone()).await.unwrap();
    let number = common::linked_number(&state, &user.owner, &agent.id).await;
    let alerts = NotificationInput {
        email_to: "ops@example.com".into(),
        email_events: vec!["keyword".into()],
        keywords: vec!["appointment".into()],
        ..Default::default()
    };
    server::notify::settings::save(&state, &user.owner, alerts).await.unwrap();
    state.voice.warm_up(&[(input, None)], true).await;
    // The caller speaks (Piper's voice, heard by Whisper through the real stream).
    let caller = state.voice.pipeline(&domain::agent::AgentInput { name: "Caller".into(), ..Default::default() }, None);
    let audio = caller.tts.synthesize("I would like to book an appointment.", 8000).await.unwrap();
    let steps = vec![server::simulator::Step::Say { label: "booking".into(), audio: audio.into() }];
    server::simulator::run(server::simulator::CallOptions::new(number.webhook_url.clone(), steps)).await.expect("the call runs");
    let messages = smtp.wait_for(1, 20).await;
    assert_eq!(messages.len(), 1, "one alert for the key word");
    assert_eq!(header(&messages[0], "Subject"), Some("[Voxgate] \"appointment\" said on +918047491899"));
    assert!(messages[0].contains("Call: exotel_"), "{}", messages[0]);
}
