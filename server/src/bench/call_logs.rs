//! `voxgate bench call-logs`: Call Logs and Analytics over many calls of one user. The calls are
//! written straight into the database in batches (a whole call's path is `bench calls`'s job);
//! the reads go through the service layer, as the dashboard and REST make them.

use std::time::Instant;

use domain::call::CallQuery;
use serde_json::json;

use super::{anyhow_like, bench_state, summary};

/// Numbers the calls are spread over.
const NUMBERS: usize = 20;
/// Calls written per query.
const BATCH: usize = 1000;

/// Writes `count` calls over the last 30 days for one user, then times listing pages (first,
/// deep), filters (number, status, a day) and the analytics page.
pub async fn call_logs(dir: &std::path::Path, count: usize) -> anyhow_like::Result<Vec<String>> {
    let (state, user, agent) = bench_state(dir).await?;
    let mut out = Vec::new();
    let started = Instant::now();
    let now = chrono::Utc::now();
    let statuses = ["completed", "completed", "completed", "failed", "rejected"];
    for batch in 0..count.div_ceil(BATCH) {
        let calls: Vec<serde_json::Value> = (batch * BATCH..((batch + 1) * BATCH).min(count))
            .map(|i| {
                let at = now - chrono::Duration::seconds((i as i64 * 2_592_000) / count.max(1) as i64);
                json!({
                    "key": format!("bench{i:08}"), "phone": format!("phone{:02}", i % NUMBERS), "number": format!("+9180{:08}", i % NUMBERS),
                    "session": format!("CA{i:032}"), "status": statuses[i % statuses.len()], "at": at.to_rfc3339(),
                    "caller": format!("+9198{:08}", i % 5000), "duration": 30_000 + (i % 90) * 1000,
                })
            })
            .collect();
        crate::db::rows::<serde_json::Value>(
            &state.db,
            "FOR $c IN $calls {
                CREATE type::record('call', $c.key) SET owner = type::record('user', $owner), phone_id = $c.phone,
                    phone_number = $c.number, agent_id = $agent, provider = 'exotel', session_id = $c.session, status = $c.status,
                    caller = $c.caller, direction = 'inbound', params_json = '{}', started_at = <datetime>$c.at,
                    answered_at = <datetime>$c.at, ended_at = <datetime>$c.at + 30s, duration_ms = $c.duration, node = 'bench';
            };",
            json!({ "calls": calls, "owner": user.owner.id(), "agent": agent.id }),
        )
        .await?;
    }
    out.push(format!("wrote {count} calls over {NUMBERS} numbers and 30 days in {:.1} s", started.elapsed().as_secs_f64()));

    let time = |label: &str, runs: usize, q: CallQuery| {
        let (state, owner) = (state.clone(), user.owner.clone());
        let label = label.to_string();
        async move {
            let mut samples = Vec::with_capacity(runs);
            let mut total = 0;
            for _ in 0..runs {
                let t = Instant::now();
                let page = crate::calls::list(&state, &owner, &q).await?;
                samples.push(t.elapsed());
                total = page.total;
            }
            Ok::<String, Box<dyn std::error::Error + Send + Sync>>(format!("{} (total {total})", summary(&label, samples)))
        }
    };
    let page = |p: u32| CallQuery { page: Some(p), page_size: Some(50), ..Default::default() };
    out.push(time("Call Logs, first page of 50", 20, page(1)).await?);
    out.push(time("Call Logs, page 100 of 50", 20, page(100)).await?);
    out.push(time("Call Logs, one number's first page", 20, CallQuery { phone_id: Some("phone07".into()), ..page(1) }).await?);
    out.push(time("Call Logs, failed calls' first page", 20, CallQuery { status: Some("failed".into()), ..page(1) }).await?);
    let day = (now - chrono::Duration::days(3)).format("%Y-%m-%d").to_string();
    out.push(time("Call Logs, one day", 20, CallQuery { from: Some(day.clone()), to: Some(day), ..page(1) }).await?);

    let mut analytics = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        crate::calls::analytics(&state, &user.owner, 14, None, None).await?;
        analytics.push(t.elapsed());
    }
    out.push(summary("Analytics, 14 days", analytics));
    Ok(out)
}
