//! `voxgate bench calls`: many simulated callers at once against an echo agent, the callers
//! in a child process (`voxgate bench callers`) so that the server's memory is measured alone.

use std::time::{Duration, Instant};

use domain::phone_number::Provider;

use crate::config::Settings;

use super::{anyhow_like, call_line, rss_kb, stats_line};

/// The callers' side of [`calls`], run in its own process (`voxgate bench callers`) so that
/// the server's memory is measured alone: `calls` simulated callers, each saying a 3.5 s
/// sentence `turns` times. Prints one JSON line: completed, failed, unanswered, replies (ms),
/// and the agent chunks received, those that came late (a gap over 20 ms) and the longest gap.
pub async fn callers(webhook: &str, calls: usize, turns: usize, provider: Provider) -> anyhow_like::Result<serde_json::Value> {
    let engine = crate::voice::engine::VoiceEngine::new(
        crate::voice::models::ModelFiles::new(Settings::load().map(|s| s.models_dir).unwrap_or_else(|_| "data/models".into()), "tiny.en"),
        2,
        Duration::from_secs(8),
        crate::net::GuardedClient::new(std::sync::Arc::default(), crate::net::guard::CONNECT_TIMEOUT)?,
    );
    let voice = engine.pipeline(&domain::agent::AgentInput { name: "Caller".into(), ..Default::default() }, None);
    let utterance: std::sync::Arc<[i16]> =
        voice.tts.synthesize("Hello, I would like to check the status of my order, please.", super::caller_rate(provider)).await?.into();
    // The callers' own lateness: a tick every 10 ms, and how far behind it woke. A gap the
    // callers hear while they themselves ran this late is theirs, not the server's.
    let lag = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let monitor = {
        let lag = lag.clone();
        tokio::spawn(async move {
            let tick = Duration::from_millis(10);
            loop {
                let due = tokio::time::Instant::now() + tick;
                tokio::time::sleep_until(due).await;
                let behind = due.elapsed().as_micros() as u64;
                lag.fetch_max(behind, std::sync::atomic::Ordering::Relaxed);
            }
        })
    };
    let mut tasks = Vec::with_capacity(calls);
    for i in 0..calls {
        let steps: Vec<crate::simulator::Step> =
            (0..turns).map(|t| crate::simulator::Step::Say { label: format!("{t}"), audio: utterance.clone() }).collect();
        let mut opts = super::bench_call(provider, webhook, steps);
        opts.keep_audio = false;
        opts.call_sid = match provider {
            Provider::Twilio => format!("CA{i:032x}"),
            Provider::Vonage | Provider::Plivo => format!("00000000-0000-4000-8000-{i:012x}"),
            _ => format!("LOAD{i:06}"),
        };
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
    monitor.abort();
    let lag_ms = lag.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1000.0;
    Ok(serde_json::json!({
        "completed": ok, "failed": failed, "unanswered": unanswered, "replies": replies, "chunks": chunks, "lateChunks": late,
        "maxGapMs": max_gap, "callersLagMs": lag_ms,
    }))
}

/// `calls` simulated callers at once, each speaking a 3.5 s sentence per turn for about
/// `seconds`, against an echo agent with both VAD stages on (or, with `offline`, the whole
/// offline voice: Whisper, the scripted agent, Piper). With `max_calls` under `calls`, the
/// calls over the cap are turned away as busy and counted. The callers run in a child process
/// (`voxgate bench callers`, this binary) so that this process's memory is the server's.
pub async fn calls(
    dir: &std::path::Path,
    calls: usize,
    seconds: u32,
    max_calls: Option<usize>,
    offline: bool,
    provider: Provider,
) -> anyhow_like::Result<Vec<String>> {
    let mut agent = domain::agent::AgentInput { name: "Echo".into(), ..Default::default() };
    if !offline {
        agent.providers.llm = "echo".into();
    }
    let (state, webhook) = call_line(dir, agent, max_calls.unwrap_or(calls), provider).await?;
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
        .args(["--provider", provider.as_str()])
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
    let busy: Vec<i64> = crate::db::rows(
        &state.db,
        "SELECT VALUE count() FROM call WHERE status = 'rejected' AND string::starts_with(reason, 'busy') GROUP ALL",
        serde_json::json!({}),
    )
    .await?;
    let peak_kb = peak.load(std::sync::atomic::Ordering::Relaxed);
    let per_call = (peak_kb.saturating_sub(base)) as f64 / calls as f64;
    Ok(vec![
        format!("processor: {}", super::machine::processor()),
        format!(
            "{calls} concurrent calls, {turns} turns each, {:.1} s wall; {} completed, {} failed, {} turns unanswered; {} conversations recorded; {} turned away as busy (cap {})",
            elapsed.as_secs_f64(),
            report["completed"],
            report["failed"],
            report["unanswered"],
            stats.calls,
            busy.first().copied().unwrap_or(0),
            max_calls.unwrap_or(calls),
        ),
        format!(
            "outbound chunk lateness vs real-time schedule: chunks={} p50<={} ms p99<={} ms p99.9<={} ms max={} ms",
            stats.lateness.chunks,
            stats.lateness.quantile_ms(0.5),
            stats.lateness.quantile_ms(0.99),
            stats.lateness.quantile_ms(0.999),
            stats.lateness.max_ms
        ),
        format!(
            "agent chunks as the callers received them: {} chunks, {} late (played-out audio ran dry for > 20 ms inside an utterance), longest gap {:.1} ms; the callers' own process ran up to {:.1} ms behind",
            report["chunks"],
            report["lateChunks"],
            report["maxGapMs"].as_f64().unwrap_or(f64::NAN),
            report["callersLagMs"].as_f64().unwrap_or(f64::NAN)
        ),
        stats_line("server-added latency per turn (speech end detected -> first byte out, minus providers)", stats.server_added_ms.clone()),
        stats_line(
            if offline {
                "voice to voice: caller's end of audio -> agent heard (end-of-speech silence, Whisper, scripted agent, Piper)"
            } else {
                "caller's end of audio -> echo heard (the agent's 700 ms end-of-speech silence, less the sentence's own trailing silence)"
            },
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
