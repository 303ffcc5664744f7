//! `voxgate bench webhook`: the answer webhook at a fixed request rate over loopback.

use std::time::{Duration, Instant};

use super::{anyhow_like, bench_state, linked_number, summary};

/// Drives the answer webhook of one number at a fixed request rate over loopback (server and
/// load generator in this process, embedded file database under `dir`); every request is a
/// new call. Latency is measured from each request's scheduled start, so a slow server
/// cannot hide queueing (no coordinated omission).
pub async fn webhook(dir: &std::path::Path, rate: u32, seconds: u32) -> anyhow_like::Result<Vec<String>> {
    let (state, user, agent) = bench_state(dir).await?;
    let number = linked_number(&state, &user.owner, &agent.id, domain::phone_number::Provider::Other).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(crate::serve::run(listener, crate::routes::router(state.clone(), axum::Router::new()), std::future::pending()));
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
