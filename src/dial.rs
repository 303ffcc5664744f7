//! `voxgate dial`: an outbound call from the command line, through a running Voxgate's REST API
//! (`POST /api/calls`), followed to its end with `--wait`.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::numbers::{client, failure};

/// What `voxgate dial` was asked.
pub struct Dial {
    pub phone: String,
    pub to: String,
    pub agent: Option<String>,
    /// `name=value` pairs.
    pub variables: Vec<String>,
    pub wait: bool,
}

/// `name=value` pairs as a map; a pair without `=` is an error naming it.
pub fn variables(pairs: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    pairs
        .iter()
        .map(|p| match p.split_once('=') {
            Some((k, v)) => Ok((k.trim().to_string(), v.to_string())),
            None => bail!("--var {p:?}: write name=value"),
        })
        .collect()
}

/// Places the call; prints its id and status, and with `wait` its end and transcript.
pub async fn dial(base: &str, token: &str, d: Dial) -> anyhow::Result<()> {
    let body = domain::outbound::PlaceCall { phone_id: d.phone, to: d.to, agent_id: d.agent, variables: variables(&d.variables)? };
    let http = client()?;
    let r = http
        .post(format!("{base}/api/calls"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .with_context(|| format!("cannot reach Voxgate at {base}"))?;
    if !r.status().is_success() {
        return Err(failure(r).await);
    }
    let mut call: domain::call::CallDetail = r.json().await?;
    println!(
        "call {} to {} from {}: {}",
        call.call.id,
        call.call.callee.as_deref().unwrap_or("?"),
        call.call.phone_number,
        call.call.status
    );
    if !d.wait {
        return Ok(());
    }
    // An outbound call rings for at most 45 s and lasts at most an hour.
    for _ in 0..(3700 * 2) {
        if !call.call.status.is_live() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let r = http.get(format!("{base}/api/calls/{}", call.call.id)).bearer_auth(token).send().await?;
        if !r.status().is_success() {
            return Err(failure(r).await);
        }
        call = r.json().await?;
    }
    let outcome = call.call.outcome.map_or("unknown", |o| o.as_str());
    println!("ended {}: outcome {outcome}{}", call.call.status, call.call.reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default());
    for t in &call.turns {
        println!("  {:<6} {}", t.role, t.text);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_name_value_pairs() {
        let v = variables(&["name=Asha".into(), "note=a=b".into()]).unwrap();
        assert_eq!(v["name"], "Asha");
        assert_eq!(v["note"], "a=b");
        assert!(variables(&["oops".into()]).is_err());
    }
}
