//! `voxgate bench …`: benchmarks that print figures (never pass/fail thresholds).

use std::time::{Duration, Instant};

use domain::phone_number::{ExotelConfigInput, PhoneNumberInput, PhoneNumberQuery};

use crate::config::{DatabaseUrl, Settings};
use crate::state::AppState;

/// Percentile (0–100) of sorted durations.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn summary(label: &str, mut samples: Vec<Duration>) -> String {
    samples.sort();
    format!(
        "{label}: n={} p50={} p90={} p99={} max={}",
        samples.len(),
        ms(percentile(&samples, 50.0)),
        ms(percentile(&samples, 90.0)),
        ms(percentile(&samples, 99.0)),
        ms(samples.last().copied().unwrap_or_default())
    )
}

/// A fresh embedded file database under `dir` with one user and one agent.
async fn bench_state(dir: &std::path::Path) -> anyhow_like::Result<(AppState, crate::users::CurrentUser, domain::agent::AgentView)> {
    let mut settings = Settings::for_tests();
    settings.database_url = DatabaseUrl::SurrealKv(dir.join("db"));
    settings.data_dir = dir.to_path_buf();
    let state = AppState::connect(settings).await?;
    let user = crate::users::sign_up(&state, "bench@example.com", "benchmark password").await?;
    let agent =
        crate::agents::create(&state, &user.owner, domain::agent::AgentInput { name: "Bench agent".into(), ..Default::default() }).await?;
    Ok((state, user, agent))
}

/// Imports `count` numbers for one user into an embedded file database under `dir`, then
/// times listing every page, filtered pages and searches through the service layer.
pub async fn numbers(dir: &std::path::Path, count: usize, page_size: u32) -> anyhow_like::Result<Vec<String>> {
    let (state, user, agent) = bench_state(dir).await?;
    let mut out = Vec::new();

    let started = Instant::now();
    let mut inserts = Vec::with_capacity(count);
    for i in 0..count {
        let input = PhoneNumberInput {
            phone_number: format!("+9198{:08}", 10_000_000 + i),
            display_name: format!("Line {i}"),
            provider: "exotel".into(),
            exotel_config: Some(ExotelConfigInput {
                api_key: Some(format!("key{i:06}")),
                api_token: Some(format!("token{i:06}")),
                sid: "bench".into(),
                region: "in".into(),
                ..Default::default()
            }),
            linked_agent_id: (i % 3 == 0).then(|| agent.id.clone()),
            status: Some(if i % 10 == 0 { "inactive" } else { "active" }.into()),
        };
        let t = Instant::now();
        crate::numbers::create(&state, &user.owner, &input).await?;
        inserts.push(t.elapsed());
    }
    out.push(format!("imported {count} numbers in {:.1} s", started.elapsed().as_secs_f64()));
    out.push(summary("import (validate + seal + insert + read back)", inserts));

    let pages = count.div_ceil(page_size as usize) as u32;
    let mut list = Vec::new();
    for page in 1..=pages {
        let q = PhoneNumberQuery { page: Some(page), page_size: Some(page_size), ..Default::default() };
        let t = Instant::now();
        let p = crate::numbers::list(&state, &user.owner, &q).await?;
        list.push(t.elapsed());
        assert_eq!(p.total as usize, count);
    }
    out.push(summary(&format!("list page of {page_size} (all {pages} pages)"), list));

    let mut filtered = Vec::new();
    for page in 1..=20 {
        let q = PhoneNumberQuery {
            status: Some("inactive".into()),
            agent_id: None,
            page: Some(page),
            page_size: Some(page_size),
            ..Default::default()
        };
        let t = Instant::now();
        crate::numbers::list(&state, &user.owner, &q).await?;
        filtered.push(t.elapsed());
    }
    out.push(summary(&format!("list page of {page_size}, status=inactive"), filtered));

    let mut search = Vec::new();
    for i in 0..50 {
        let q = PhoneNumberQuery { q: Some(format!("line {}", i * 97)), page_size: Some(page_size), ..Default::default() };
        let t = Instant::now();
        crate::numbers::list(&state, &user.owner, &q).await?;
        search.push(t.elapsed());
    }
    out.push(summary("search by name (q=line N)", search));
    Ok(out)
}

/// Drives the answer webhook of one number at a fixed request rate over loopback (server and
/// load generator in this process, embedded file database under `dir`); every request is a
/// new call. Latency is measured from each request's scheduled start, so a slow server
/// cannot hide queueing (no coordinated omission).
pub async fn webhook(dir: &std::path::Path, rate: u32, seconds: u32) -> anyhow_like::Result<Vec<String>> {
    let (state, user, agent) = bench_state(dir).await?;
    let number = crate::numbers::create(
        &state,
        &user.owner,
        &PhoneNumberInput {
            phone_number: "+918047491899".into(),
            provider: "other".into(),
            linked_agent_id: Some(agent.id),
            ..Default::default()
        },
    )
    .await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(crate::serve::run(listener, crate::http::router().with_state(state.clone()), std::future::pending()));
    let path = number.webhook_url.trim_start_matches(&state.settings.public_link("")).to_string();
    let url = format!("http://{addr}{path}");
    let client = reqwest::Client::builder().pool_max_idle_per_host(1024).build()?;

    let total = (rate as u64) * (seconds as u64);
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(total as usize);
    for i in 0..total {
        let scheduled = started + interval.mul_f64(i as f64);
        tokio::time::sleep_until(scheduled.into()).await;
        let (client, url) = (client.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let res = client.post(url).form(&[("CallSid", format!("BENCH{i:08}")), ("From", "+919876543210".into())]).send().await;
            let ok = matches!(&res, Ok(r) if r.status().is_success());
            if let Ok(r) = res {
                let _ = r.bytes().await;
            }
            (scheduled.elapsed(), ok)
        }));
    }
    let mut latencies = Vec::with_capacity(tasks.len());
    let mut errors = 0;
    for t in tasks {
        let (latency, ok) = t.await?;
        if !ok {
            errors += 1;
        }
        latencies.push(latency);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let calls = crate::db::calls::count_for_phone(&state.db, &user.owner, &number.id).await?;
    Ok(vec![
        format!(
            "target {rate} req/s for {seconds} s: sent {total}, completed in {elapsed:.2} s, achieved {:.0} req/s, errors {errors}, calls stored {calls}",
            total as f64 / elapsed
        ),
        summary("answer latency (from scheduled send)", latencies),
    ])
}

/// A boxed error for benchmark plumbing.
pub mod anyhow_like {
    /// Any error.
    pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;
}

/// Resident memory of this process (kB), from /proc.
fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

/// A server on loopback whose public URL is itself, a user, and a number linked to an agent.
async fn call_line(dir: &std::path::Path, agent: domain::agent::AgentInput) -> anyhow_like::Result<(AppState, String)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let mut settings = Settings::for_tests();
    settings.database_url = DatabaseUrl::SurrealKv(dir.join("db"));
    settings.data_dir = dir.to_path_buf();
    settings.public_url = url::Url::parse(&format!("http://{addr}"))?;
    // The offline voice as configured (e.g. VOXGATE_STT_MODEL=base for the accuracy mode).
    if let Ok(live) = Settings::load() {
        (settings.models_dir, settings.stt_model, settings.voice_threads) = (live.models_dir, live.stt_model, live.voice_threads);
    }
    let state = AppState::connect(settings).await?;
    let user = crate::users::sign_up(&state, "bench@example.com", "benchmark password").await?;
    let agent = crate::agents::create(&state, &user.owner, agent).await?;
    let number = crate::numbers::create(
        &state,
        &user.owner,
        &PhoneNumberInput {
            phone_number: "+918047491899".into(),
            provider: "other".into(),
            linked_agent_id: Some(agent.id.clone()),
            ..Default::default()
        },
    )
    .await?;
    tokio::spawn(crate::serve::run(listener, crate::http::router().with_state(state.clone()), std::future::pending()));
    state.voice.warm_up(&[(agent.settings, None)], true).await;
    Ok((state, number.webhook_url))
}

async fn caller_speech(state: &AppState, text: &str) -> anyhow_like::Result<Vec<i16>> {
    let p = state.voice.pipeline(&domain::agent::AgentInput { name: "Caller".into(), ..Default::default() }, None);
    Ok(p.tts.synthesize(text, 8000).await?)
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn stats_line(label: &str, mut v: Vec<f64>) -> String {
    v.sort_by(f64::total_cmp);
    format!(
        "{label}: n={} p50={:.1} p90={:.1} p99={:.1} max={:.1} ms",
        v.len(),
        quantile(&v, 0.5),
        quantile(&v, 0.9),
        quantile(&v, 0.99),
        v.last().copied().unwrap_or(f64::NAN)
    )
}

/// The callers' side of [`calls`], run in its own process (`voxgate bench callers`) so that
/// the server's memory is measured alone: `calls` simulated callers, each saying a 3.5 s
/// sentence `turns` times. Prints one JSON line: completed, failed, unanswered, replies (ms),
/// and the agent chunks received, those that came late (a gap over 20 ms) and the longest gap.
pub async fn callers(webhook: &str, calls: usize, turns: usize) -> anyhow_like::Result<serde_json::Value> {
    let engine = crate::voice::engine::VoiceEngine::new(
        crate::voice::models::ModelFiles::new(Settings::load().map(|s| s.models_dir).unwrap_or_else(|_| "data/models".into()), "tiny.en"),
        2,
        Duration::from_secs(8),
    );
    let voice = engine.pipeline(&domain::agent::AgentInput { name: "Caller".into(), ..Default::default() }, None);
    let utterance: std::sync::Arc<[i16]> =
        voice.tts.synthesize("Hello, I would like to check the status of my order, please.", 8000).await?.into();
    let mut tasks = Vec::with_capacity(calls);
    for i in 0..calls {
        let steps: Vec<crate::simulator::Step> =
            (0..turns).map(|t| crate::simulator::Step::Say { label: format!("{t}"), audio: utterance.clone() }).collect();
        let mut opts = crate::simulator::CallOptions::new(webhook.to_string(), steps);
        opts.keep_audio = false;
        opts.call_sid = format!("LOAD{i:06}");
        // Callers arrive over two seconds, not in one instant.
        let delay = Duration::from_secs_f64(2.0 * i as f64 / calls as f64);
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            crate::simulator::run(opts).await
        }));
    }
    let mut replies = Vec::new();
    let (mut ok, mut failed, mut unanswered, mut chunks, mut late, mut max_gap) = (0, 0, 0, 0, 0, 0f64);
    for t in tasks {
        match t.await {
            Ok(Ok(report)) => {
                ok += 1;
                chunks += report.media_frames;
                late += report.late_chunks;
                max_gap = max_gap.max(report.max_gap_ms);
                for turn in &report.turns {
                    match turn.reply_after_ms {
                        Some(ms) => replies.push(ms),
                        None => unanswered += 1,
                    }
                }
            }
            _ => failed += 1,
        }
    }
    Ok(
        serde_json::json!({ "completed": ok, "failed": failed, "unanswered": unanswered, "replies": replies, "chunks": chunks, "lateChunks": late, "maxGapMs": max_gap }),
    )
}

/// `calls` simulated callers at once against an echo agent with both VAD stages on, each
/// speaking a 3.5 s sentence per turn for about `seconds`. The callers run in a child process
/// (`voxgate bench callers`, this binary) so that this process's memory is the server's.
pub async fn calls(dir: &std::path::Path, calls: usize, seconds: u32) -> anyhow_like::Result<Vec<String>> {
    let mut agent = domain::agent::AgentInput { name: "Echo".into(), ..Default::default() };
    agent.providers.llm = "echo".into();
    let (state, webhook) = call_line(dir, agent).await?;
    let turns = ((seconds as f64 / 8.8).ceil() as usize).max(1);
    let base = rss_kb();
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(base));
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                peak.fetch_max(rss_kb(), std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let started = Instant::now();
    let output = tokio::process::Command::new(std::env::current_exe()?)
        .args(["bench", "callers", "--webhook", &webhook, "--calls", &calls.to_string(), "--turns", &turns.to_string()])
        .stderr(std::process::Stdio::inherit())
        .output()
        .await?;
    let elapsed = started.elapsed();
    sampler.abort();
    let report: serde_json::Value =
        serde_json::from_slice(output.stdout.rsplit(|b| *b == b'\n').find(|l| !l.is_empty()).unwrap_or_default())
            .map_err(|e| format!("the callers' process printed no report ({e}): {}", String::from_utf8_lossy(&output.stdout)))?;
    let replies: Vec<f64> =
        report["replies"].as_array().map(|a| a.iter().filter_map(serde_json::Value::as_f64).collect()).unwrap_or_default();
    // Let the last conversations record their figures.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stats = state.voice.stats.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    let peak_kb = peak.load(std::sync::atomic::Ordering::Relaxed);
    let per_call = (peak_kb.saturating_sub(base)) as f64 / calls as f64;
    Ok(vec![
        format!(
            "{calls} concurrent calls, {turns} turns each, {:.1} s wall; {} completed, {} failed, {} turns unanswered; {} conversations recorded",
            elapsed.as_secs_f64(),
            report["completed"],
            report["failed"],
            report["unanswered"],
            stats.calls
        ),
        format!(
            "outbound chunk lateness vs real-time schedule: chunks={} p50<={} ms p99<={} ms p99.9<={} ms",
            stats.lateness.chunks,
            stats.lateness.quantile_ms(0.5),
            stats.lateness.quantile_ms(0.99),
            stats.lateness.quantile_ms(0.999)
        ),
        format!(
            "agent chunks as the callers received them: {} chunks, {} late (played-out audio ran dry for > 20 ms inside an utterance), longest gap {:.1} ms",
            report["chunks"],
            report["lateChunks"],
            report["maxGapMs"].as_f64().unwrap_or(f64::NAN)
        ),
        stats_line("server-added latency per turn (speech end detected -> first byte out, minus providers)", stats.server_added_ms.clone()),
        stats_line(
            "caller's end of audio -> echo heard (the agent's 700 ms end-of-speech silence, less the sentence's own trailing silence)",
            replies,
        ),
        format!(
            "server memory: base {:.0} MB (models loaded), peak {:.0} MB -> {:.0} KB per call (the callers run in a separate process)",
            base as f64 / 1024.0,
            peak_kb as f64 / 1024.0,
            per_call
        ),
    ])
}

/// The 20 phone-agent utterances of shared/OFFLINE_VOICE.md with their key word.
pub const UTTERANCES: [(&str, &str); 20] = [
    ("What are your opening hours?", "hours"),
    ("How much does the consultation cost?", "cost"),
    ("I would like an appointment for tomorrow.", "appointment"),
    ("Can I talk to a human, please?", "human"),
    ("Yes.", "yes"),
    ("No.", "no"),
    ("I want to cancel my booking.", "cancel"),
    ("Is Monday possible?", "monday"),
    ("What about Saturday?", "saturday"),
    ("What is your address?", "address"),
    ("My phone number is five five five, one two three, four five nine nine.", "phone"),
    ("Can we do three o'clock?", "three"),
    ("I need to reschedule.", "reschedule"),
    ("Can I pay by credit card?", "credit"),
    ("Is there parking nearby?", "parking"),
    ("My name is John Smith.", "john"),
    ("Could you repeat that, please?", "repeat"),
    ("Operator, please.", "operator"),
    ("Yes, that is correct.", "correct"),
    ("Thank you, goodbye.", "goodbye"),
];

/// Words for WER: lower case, no punctuation, every digit spelled ("555-1234" is "five five
/// five one two three four", as a caller says it).
fn wer_words(text: &str) -> Vec<String> {
    const DIGITS: [&str; 10] = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];
    crate::voice::agent::normalize(text)
        .into_iter()
        .flat_map(|w| {
            if w.chars().all(|c| c.is_ascii_digit()) {
                w.chars().map(|c| DIGITS[c as usize - '0' as usize].to_string()).collect()
            } else {
                vec![w]
            }
        })
        .collect()
}

/// Word error rate of `heard` against `said`.
pub fn word_error_rate(said: &str, heard: &str) -> f64 {
    let a = wer_words(said);
    let b = wer_words(heard);
    strsim::generic_levenshtein(&a, &b) as f64 / a.len().max(1) as f64
}

/// The text heard during each utterance: stored caller turns (`started_at`, `text`) grouped
/// by the last utterance that had begun (with 200 ms of slack) when the turn started.
fn heard_per_utterance(began: &[chrono::DateTime<chrono::Utc>], caller_turns: &[&serde_json::Value]) -> Vec<String> {
    let mut heard = vec![String::new(); began.len()];
    for t in caller_turns {
        let Some(at) = t["started_at"].as_str().and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok()) else { continue };
        let at = at.with_timezone(&chrono::Utc) + chrono::Duration::milliseconds(200);
        if let Some(i) = began.iter().rposition(|b| *b <= at) {
            if !heard[i].is_empty() {
                heard[i].push(' ');
            }
            heard[i].push_str(t["text"].as_str().unwrap_or_default());
        }
    }
    heard
}

/// One call of the 20 utterances through the offline voice (Silero + webrtc-vad, Whisper,
/// scripted agent, Piper): voice-to-voice latency with its breakdown, and the word error rate.
pub async fn voice(dir: &std::path::Path) -> anyhow_like::Result<Vec<String>> {
    let rules = UTTERANCES
        .iter()
        .map(|(_, key)| domain::agent::ScriptRule { keywords: vec![key.to_string()], reply: format!("You said {key}. Anything else?") })
        .collect();
    let agent = domain::agent::AgentInput { name: "Voice bench".into(), rules, ..Default::default() };
    let (state, webhook) = call_line(dir, agent).await?;
    let mut steps = Vec::new();
    for (text, _) in UTTERANCES {
        steps.push(crate::simulator::Step::Say { label: text.to_string(), audio: caller_speech(&state, text).await?.into() });
    }
    let mut opts = crate::simulator::CallOptions::new(webhook, steps);
    opts.keep_audio = false;
    let report = crate::simulator::run(opts).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let call_key = format!("exotel_{}", report.call_sid);
    let turns: Vec<serde_json::Value> = crate::db::rows(
        &state.db,
        "SELECT role, kind, text, started_at, stt_ms, agent_ms, tts_ms, first_byte_ms FROM turn WHERE call = type::record('call', $c) ORDER BY seq",
        serde_json::json!({ "c": call_key }),
    )
    .await?;
    let caller: Vec<&serde_json::Value> = turns.iter().filter(|t| t["role"] == "caller").collect();
    let agent: Vec<&serde_json::Value> = turns.iter().filter(|t| t["role"] == "agent" && t["kind"] != "greeting").collect();
    // Each stored caller turn belongs to the utterance being spoken when it began (an
    // utterance split in two turns is joined; one never heard counts as all words missed).
    let began: Vec<chrono::DateTime<chrono::Utc>> = report.turns.iter().map(|t| t.began_at).collect();
    let heard_texts = heard_per_utterance(&began, &caller);
    let (mut errors, mut words, mut hits) = (0.0, 0.0, 0);
    let mut misheard = Vec::new();
    for ((said, key), heard) in UTTERANCES.iter().zip(heard_texts.iter()) {
        let heard = heard.as_str();
        if word_error_rate(said, heard) > 0.0 {
            misheard.push(format!("  said {said:?} heard {heard:?}"));
        }
        let n = wer_words(said).len() as f64;
        errors += word_error_rate(said, heard) * n;
        words += n;
        if wer_words(heard).iter().any(|w| w == key) {
            hits += 1;
        }
    }
    let v2v: Vec<f64> = report.turns.iter().filter_map(|t| t.reply_after_ms).collect();
    let field = |k: &str| agent.iter().filter_map(|t| t[k].as_f64()).collect::<Vec<f64>>();
    let first_byte = field("first_byte_ms");
    // Endpointing: caller audio ended -> end of speech detected = heard - (detected -> first byte).
    let endpointing: Vec<f64> =
        report.turns.iter().zip(agent.iter()).filter_map(|(t, a)| Some(t.reply_after_ms? - a["first_byte_ms"].as_f64()?)).collect();
    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        quantile(&v, 0.5)
    };
    Ok(vec![
        format!("{} utterances at 8 kHz (Piper voice), {} caller turns heard, {} replies", UTTERANCES.len(), caller.len(), agent.len()),
        stats_line("voice-to-voice (caller stops speaking -> first agent audio heard)", v2v.clone()),
        format!(
            "breakdown (medians; waits after end of speech was detected): end-of-speech detection {:.0} ms | STT {:.0} ms | agent {:.0} ms | TTS first sentence {:.0} ms | detection -> first byte {:.0} ms",
            median(&endpointing),
            median(&field("stt_ms")),
            median(&field("agent_ms")),
            median(&field("tts_ms")),
            median(&first_byte)
        ),
        format!(
            "Whisper run time per turn (median, mostly overlapped with the end-of-speech silence): {:.0} ms",
            median(&caller.iter().filter_map(|t| t["stt_ms"].as_f64()).collect::<Vec<_>>())
        ),
        format!("word error rate {:.1} % over {} words; key words heard {hits}/{}", 100.0 * errors / words.max(1.0), words, UTTERANCES.len()),
    ]
    .into_iter()
    .chain(misheard)
    .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_error_rate_counts_words_not_spelling_of_numbers() {
        assert_eq!(word_error_rate("My number is five five five, one two.", "My number is 555-12."), 0.0);
        assert_eq!(word_error_rate("Is there parking nearby?", "Is their parking nearby?"), 0.25);
        assert_eq!(word_error_rate("Yes.", ""), 1.0);
    }

    #[test]
    fn stored_turns_are_matched_to_utterances_by_time() {
        let t0 = chrono::DateTime::parse_from_rfc3339("2026-01-01T10:00:00Z").unwrap().with_timezone(&chrono::Utc);
        let at = |s: i64| t0 + chrono::Duration::seconds(s);
        let began = [at(0), at(10), at(20)];
        let turn = |s: &str, text: &str| serde_json::json!({ "started_at": s, "text": text });
        // The first utterance is heard in two turns, the second never, the third once (its
        // turn starts a little before the simulator's clock says it began speaking).
        let turns = [
            turn("2026-01-01T10:00:00.300Z", "what are"),
            turn("2026-01-01T10:00:02Z", "your hours"),
            turn("2026-01-01T10:00:19.900Z", "yes"),
        ];
        let refs: Vec<&serde_json::Value> = turns.iter().collect();
        assert_eq!(heard_per_utterance(&began, &refs), vec!["what are your hours".to_string(), String::new(), "yes".into()]);
    }
}
