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
        let q = PhoneNumberQuery { status: Some("inactive".into()), agent_id: None, page: Some(page), page_size: Some(page_size), ..Default::default() };
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
    let number = crate::numbers::create(&state, &user.owner, &PhoneNumberInput {
        phone_number: "+918047491899".into(),
        provider: "other".into(),
        linked_agent_id: Some(agent.id),
        ..Default::default()
    })
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
    let calls = crate::db::calls::count_for_phone(&state.db, &number.id).await?;
    Ok(vec![
        format!("target {rate} req/s for {seconds} s: sent {total}, completed in {elapsed:.2} s, achieved {:.0} req/s, errors {errors}, calls stored {calls}", total as f64 / elapsed),
        summary("answer latency (from scheduled send)", latencies),
    ])
}

/// A boxed error for benchmark plumbing.
pub mod anyhow_like {
    /// Any error.
    pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;
}
