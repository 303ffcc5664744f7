//! `voxgate bench numbers`: a bulk import, then paged listing and search over many numbers of one user.

use std::time::Instant;

use domain::phone_number::PhoneNumberQuery;

use super::{anyhow_like, bench_state, summary};

/// Imports `count` numbers for one user from one CSV file into an embedded file database under
/// `dir` (and the same file again), then times listing every page, filtered pages and searches
/// through the service layer.
pub async fn numbers(dir: &std::path::Path, count: usize, page_size: u32) -> anyhow_like::Result<Vec<String>> {
    let (state, user, agent) = bench_state(dir).await?;
    let mut out = Vec::new();

    // One CSV file, as `voxgate import` or the dashboard sends it: every row is checked, sealed,
    // asked of its provider (here none answers: tests' settings) and written.
    let header = "phoneNumber,displayName,provider,exotelConfig.sid,exotelConfig.apiKey,exotelConfig.apiToken,exotelConfig.region,linkedAgentId,status";
    let mut csv = String::from(header);
    for i in 0..count {
        let agent = if i % 3 == 0 { agent.id.as_str() } else { "" };
        let status = if i % 10 == 0 { "inactive" } else { "active" };
        csv.push_str(&format!("\n+9198{:08},Line {i},exotel,bench,key{i:06},token{i:06},in,{agent},{status}", 10_000_000 + i));
    }
    let done = std::sync::atomic::AtomicUsize::new(0);
    let started = Instant::now();
    let report = crate::numbers::import::import(&state, &user.owner, csv.as_bytes(), &Default::default(), &done).await?;
    out.push(format!(
        "imported a CSV of {count} rows ({} KB) in {:.1} s: {} imported, {} failed",
        csv.len() / 1024,
        started.elapsed().as_secs_f64(),
        report.imported,
        report.failed.len()
    ));
    let started = Instant::now();
    let again = crate::numbers::import::import(&state, &user.owner, csv.as_bytes(), &Default::default(), &done).await?;
    out.push(format!("the same file again in {:.1} s: {} unchanged", started.elapsed().as_secs_f64(), again.unchanged));

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
