//! `voxgate import`, `voxgate doctor` and `voxgate cloud`: numbers at scale from the command line.
//! Import and doctor talk to a running Voxgate over its REST API (with an API token), as the
//! dashboard does; `cloud` runs the local provider cloud tests and demos point Voxgate at.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::Value;

/// Where the running server is: `--url`, else this configuration's listen address.
pub fn base_url(settings: &server::Settings, url: Option<String>) -> String {
    url.unwrap_or_else(|| format!("http://{}", settings.listen_addr)).trim_end_matches('/').to_string()
}

pub fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder().timeout(Duration::from_secs(3600)).build()?)
}

/// The JSON error's message, or the status.
pub async fn failure(r: reqwest::Response) -> anyhow::Error {
    let status = r.status();
    let body: Value = r.json().await.unwrap_or_default();
    let e = &body["error"];
    match (e["field"].as_str(), e["message"].as_str()) {
        (Some(field), Some(m)) => anyhow::anyhow!("{status}: {field}: {m}"),
        (None, Some(m)) => anyhow::anyhow!("{status}: {m}"),
        _ => anyhow::anyhow!("{status}"),
    }
}

/// Imports a CSV file and prints the summary and every failed row; fails when any row failed.
pub async fn import(base: &str, token: &str, file: PathBuf, defaults: Option<PathBuf>, dry_run: bool) -> anyhow::Result<()> {
    let csv = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
    let url = format!("{base}/api/phone-numbers/import{}", if dry_run { "?dryRun=true" } else { "" });
    let request = client()?.post(url).bearer_auth(token);
    let request = match defaults {
        None => request.header("content-type", "text/csv").body(csv),
        Some(path) => {
            let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
            let defaults: Value = serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
            let csv = String::from_utf8(csv).context("the file is not UTF-8 text")?;
            request.json(&serde_json::json!({ "csv": csv, "defaults": defaults }))
        }
    };
    let r = request.send().await.with_context(|| format!("cannot reach Voxgate at {base}"))?;
    if !r.status().is_success() {
        return Err(failure(r).await);
    }
    let report: domain::phone_number::ImportReport = r.json().await?;
    let verb = if report.dry_run { "would import" } else { "imported" };
    println!(
        "{} rows: {verb} {}, updated {}, unchanged {}, failed {}",
        report.rows,
        report.imported,
        report.updated,
        report.unchanged,
        report.failed.len()
    );
    for f in &report.failed {
        for e in &f.errors {
            println!("  line {}: {}: {}", f.line, e.field, e.message);
        }
    }
    if !report.failed.is_empty() {
        bail!("{} rows were not imported", report.failed.len());
    }
    Ok(())
}

/// Runs the local provider cloud with the accounts in `accounts` (a JSON array).
pub async fn cloud(listen: std::net::SocketAddr, accounts: PathBuf) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&accounts).with_context(|| format!("cannot read {}", accounts.display()))?;
    let cloud =
        server::simulator::cloud::Cloud::from_json(&text).with_context(|| format!("{} is not a list of accounts", accounts.display()))?;
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    println!("provider cloud listening on http://{}", listener.local_addr()?);
    server::simulator::cloud::serve(listener, cloud).await?;
    Ok(())
}

fn print_report(r: &domain::phone_number::DoctorReport) {
    use domain::phone_number::CheckStatus;
    println!("{} ({}): {}", r.phone_number, r.provider, if r.ok { "ready" } else { "NOT READY" });
    for c in &r.checks {
        let mark = match c.status {
            CheckStatus::Pass => "ok  ",
            CheckStatus::Warn => "warn",
            CheckStatus::Fail => "FAIL",
            CheckStatus::Skip => "skip",
        };
        println!("  [{mark}] {}: {}", c.title, c.message);
        if !c.fix.is_empty() {
            println!("         fix: {} (docs/TELEPHONY_SETUP.md{})", c.fix, c.guide);
        }
    }
}

/// Prints the checklist of one number (`--number`) or of all; fails when a check failed.
pub async fn doctor(base: &str, token: &str, number: Option<String>) -> anyhow::Result<()> {
    let url = match &number {
        Some(id) => format!("{base}/api/phone-numbers/{id}/doctor"),
        None => format!("{base}/api/doctor"),
    };
    let r = client()?.get(url).bearer_auth(token).send().await.with_context(|| format!("cannot reach Voxgate at {base}"))?;
    if !r.status().is_success() {
        return Err(failure(r).await);
    }
    let reports: Vec<domain::phone_number::DoctorReport> =
        if number.is_some() { vec![r.json().await?] } else { serde_json::from_value(r.json::<Value>().await?["numbers"].take())? };
    if reports.is_empty() {
        println!("No phone numbers to check.");
    }
    reports.iter().for_each(print_report);
    let failing = reports.iter().filter(|r| !r.ok).count();
    if failing > 0 {
        bail!("{failing} of {} numbers are not ready", reports.len());
    }
    Ok(())
}
