//! Call recordings: a recorded agent's call leaves one stereo WAV (caller left, agent right, on
//! the timeline the caller heard), fetched with range requests by its owner only, deleted with
//! the call or when its retention ends; an agent that does not record leaves nothing.

use crate::common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use domain::agent::{AgentInput, ScriptRule};
use reqwest::StatusCode;
use server::simulator::{self, CallOptions, Step};

const HOURS: &str = "We are open from nine to five, Monday to Friday.";
const BOOKING: &str = "I can book you in for tomorrow morning at ten. Would that work for you, or would you like another day?";

struct Line {
    state: server::AppState,
    base: String,
    token: String,
    agent: String,
    owner: server::users::Owner,
    webhook: String,
    data: PathBuf,
}

async fn line(record: bool, retention_days: u32) -> Line {
    let data = std::env::temp_dir().join(format!("voxgate-rec-{}", server::db::new_key()));
    let dir = data.clone();
    let (state, base) = common::live_server_with(move |s| s.data_dir = dir).await;
    let (user, token) = common::user_with_token(&state, "recorded@example.com").await;
    let rule = |k: &str, r: &str| ScriptRule { keywords: vec![k.into()], reply: r.into() };
    let input = AgentInput {
        name: "Clinic".into(),
        greeting: "Thank you for calling the clinic.".into(),
        rules: vec![rule("hours", HOURS), rule("book", BOOKING)],
        record_calls: record,
        recording_notice: "This call is recorded.".into(),
        recording_retention_days: retention_days,
        ..Default::default()
    };
    let agent = server::agents::create(&state, &user.owner, input.clone()).await.unwrap();
    let number = common::linked_number(&state, &user.owner, &agent.id).await;
    state.voice.warm_up(&[(input, None)], true).await;
    Line { state, base, token, agent: agent.id, owner: user.owner, webhook: number.webhook_url, data }
}

async fn speech(state: &server::AppState, text: &str) -> Vec<i16> {
    let p = state.voice.pipeline(&AgentInput { name: "Caller".into(), ..Default::default() }, None);
    p.tts.synthesize(text, 8000).await.unwrap()
}

/// Runs of sound in one channel, in seconds: 20 ms windows louder than silence, gaps under
/// 600 ms (pauses between sentences) merged.
fn segments(channel: &[i16], rate: u32) -> Vec<(f64, f64)> {
    let win = (rate / 50) as usize;
    let mut out: Vec<(f64, f64)> = Vec::new();
    for (i, w) in channel.chunks(win).enumerate() {
        let rms = (w.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / w.len() as f64).sqrt();
        if rms < 300.0 {
            continue;
        }
        let (start, end) = (i as f64 * 0.02, (i + 1) as f64 * 0.02);
        match out.last_mut() {
            Some(last) if start - last.1 < 0.6 => last.1 = end,
            _ => out.push((start, end)),
        }
    }
    out
}

fn energy(s: &[i16]) -> f64 {
    s.iter().map(|&x| f64::from(x).powi(2)).sum()
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() { found.extend(files(&path)) } else { found.push(path) }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_call_keeps_both_sides_aligned_in_one_stereo_wav_only_its_owner_fetches() {
    let _serial = common::voice_lock().await;
    let l = line(true, 7).await;
    let question = speech(&l.state, "Hello. What are your opening hours?").await;
    let booking = speech(&l.state, "I would like to book an appointment.").await;
    let bye = speech(&l.state, "No thanks, goodbye.").await;
    let said = energy(&[question.clone(), booking.clone(), bye.clone()].concat());
    let opts = CallOptions::new(
        l.webhook.clone(),
        vec![
            Step::Say { label: "hours".into(), audio: question.into() },
            Step::Ask { label: "booking".into(), audio: booking.into() },
            Step::BargeIn { label: "bye".into(), audio: bye.into(), after: Duration::from_millis(800) },
        ],
    );
    let sid = opts.call_sid.clone();
    let report = simulator::run(opts).await.expect("the call runs");
    let id = format!("exotel_{sid}");
    let call = common::get_json(&l.base, &l.token, &format!("/api/calls/{id}")).await;
    assert_eq!(call["recordingUrl"], format!("/api/calls/{id}/recording"), "{call}");
    assert!(call["recordingMs"].as_i64().unwrap() > 5000, "{call}");
    let expires = chrono::DateTime::parse_from_rfc3339(call["recordingExpiresAt"].as_str().unwrap()).unwrap();
    let days = (expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_hours();
    assert!((7 * 24 - 1..=7 * 24).contains(&days), "kept 7 days: {call}");
    // The notice comes first, in the greeting's turn.
    assert_eq!(call["turns"][0]["text"], "This call is recorded. Thank you for calling the clinic.");

    let http = reqwest::Client::new();
    let url = format!("{}/api/calls/{id}/recording", l.base);
    let res = http.get(&url).bearer_auth(&l.token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "audio/wav");
    let wav = res.bytes().await.unwrap();
    let mut reader = hound::WavReader::new(std::io::Cursor::new(wav.to_vec())).unwrap();
    let spec = reader.spec();
    assert_eq!((spec.channels, spec.sample_rate, spec.bits_per_sample), (2, 8000, 16));
    let samples: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
    let left: Vec<i16> = samples.iter().step_by(2).copied().collect();
    let right: Vec<i16> = samples.iter().skip(1).step_by(2).copied().collect();
    assert_eq!(call["recordingMs"].as_i64().unwrap(), left.len() as i64 * 1000 / 8000);

    // Every word the caller said is on the left, once.
    let ratio = energy(&left) / said;
    assert!((0.98..=1.02).contains(&ratio), "caller energy ratio {ratio}");
    // The agent's side holds what it said, less what a barge-in cut off.
    let ratio = energy(&right) / energy(&report.agent_audio);
    assert!((0.5..=1.01).contains(&ratio), "agent energy ratio {ratio}");
    // On one timeline: greeting, question, answer, request, booking (cut short), goodbye.
    let (l_seg, r_seg) = (segments(&left, 8000), segments(&right, 8000));
    assert_eq!(l_seg.len(), 3, "caller: {l_seg:?}");
    assert!(r_seg.len() >= 3, "agent: {r_seg:?}");
    assert!(r_seg[0].1 <= l_seg[0].0 + 0.05, "the greeting ends before the question: {r_seg:?} {l_seg:?}");
    assert!(r_seg[1].0 >= l_seg[0].1 + 0.4, "the answer follows the question's end: {r_seg:?} {l_seg:?}");
    assert!(r_seg[2].0 >= l_seg[1].1 + 0.4, "the booking reply follows the request: {r_seg:?} {l_seg:?}");
    let cut = r_seg[2].1 - l_seg[2].0;
    assert!((-0.1..0.8).contains(&cut), "the booking reply stops as the caller talks over it ({cut} s): {r_seg:?} {l_seg:?}");

    // A player seeks with ranges.
    let res = http.get(&url).bearer_auth(&l.token).header("Range", "bytes=0-43").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(res.headers()["content-range"], format!("bytes 0-43/{}", wav.len()));
    assert_eq!(&res.bytes().await.unwrap()[..4], b"RIFF");

    // Nobody else reaches it, nor deletes the call.
    let (_, other) = common::user_with_token(&l.state, "someone-else@example.com").await;
    assert_eq!(http.get(&url).bearer_auth(&other).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(http.get(&url).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let call_url = format!("{}/api/calls/{id}", l.base);
    assert_eq!(http.delete(&call_url).bearer_auth(&other).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(files(&l.data.join("recordings")).len(), 1);

    // Deleted with the call: the file, the turns, the call.
    assert_eq!(http.delete(&call_url).bearer_auth(&l.token).send().await.unwrap().status(), StatusCode::NO_CONTENT);
    assert!(files(&l.data.join("recordings")).is_empty());
    assert_eq!(http.get(&call_url).bearer_auth(&l.token).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(http.get(&url).bearer_auth(&l.token).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    let turns: Vec<serde_json::Value> =
        server::db::rows(&l.state.db, "SELECT id FROM turn WHERE call = type::record('call', $c)", serde_json::json!({ "c": id }))
            .await
            .unwrap();
    assert!(turns.is_empty());
    let _ = std::fs::remove_dir_all(&l.data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recordings_past_their_retention_are_deleted_and_an_agent_that_does_not_record_leaves_none() {
    let _serial = common::voice_lock().await;
    let l = line(true, 1).await;
    let hello = speech(&l.state, "What are your opening hours?").await;
    let call = |line: &Line| {
        let opts = CallOptions::new(line.webhook.clone(), vec![Step::Say { label: "hours".into(), audio: hello.clone().into() }]);
        let id = format!("exotel_{}", opts.call_sid);
        async move {
            simulator::run(opts).await.expect("the call runs");
            id
        }
    };
    let kept_a_day = call(&l).await;
    // Kept until deleted: no expiry.
    let mut input = server::agents::get(&l.state, &l.owner, &l.agent).await.unwrap().settings;
    input.recording_retention_days = 0;
    server::agents::update(&l.state, &l.owner, &l.agent, input.clone()).await.unwrap();
    let kept = call(&l).await;
    let read = |id: String| {
        let (base, token) = (l.base.clone(), l.token.clone());
        async move { common::get_json(&base, &token, &format!("/api/calls/{id}")).await }
    };
    assert!(read(kept.clone()).await["recordingExpiresAt"].is_null());
    assert_eq!(files(&l.data.join("recordings")).len(), 2);

    // A day and a bit later, the sweep deletes the first recording, not its call.
    assert_eq!(server::calls::recordings::sweep_expired(&l.state).await.unwrap(), 0, "nothing expired yet");
    l.state.clock.advance(chrono::Duration::hours(25));
    assert_eq!(server::calls::recordings::sweep_expired(&l.state).await.unwrap(), 1);
    let first = read(kept_a_day).await;
    assert!(first["recordingUrl"].is_null(), "{first}");
    assert_eq!(first["status"], "completed");
    assert!(!read(kept.clone()).await["recordingUrl"].is_null());
    assert_eq!(files(&l.data.join("recordings")).len(), 1);

    // Recording off: no file, no link, no notice.
    input.record_calls = false;
    server::agents::update(&l.state, &l.owner, &l.agent, input).await.unwrap();
    let plain = read(call(&l).await).await;
    assert!(plain["recordingUrl"].is_null(), "{plain}");
    assert_eq!(plain["turns"][0]["text"], "Thank you for calling the clinic.");
    assert_eq!(files(&l.data.join("recordings")).len(), 1);
    let _ = std::fs::remove_dir_all(&l.data);
}
