//! `voxgate bench numbers`: paged listing and search over many numbers of one user.

use std::time::Instant;

use domain::phone_number::{ExotelConfigInput, PhoneNumberInput, PhoneNumberQuery};

use super::{anyhow_like, bench_state, summary};

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
            ..Default::default()
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
