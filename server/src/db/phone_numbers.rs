//! `phone_number` rows, scoped to their owner (the telephony lookup by id is the one exception).

use domain::call::CallStatus;
use domain::phone_number::{NumberStatus, Provider};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Db, DbError, query, row, rows, take};
use crate::users::Owner;

/// A stored number, with its linked agent's name. Sealed credentials are not read here.
#[derive(Debug, Clone, Deserialize)]
pub struct NumberRow {
    pub id: String,
    pub owner_id: String,
    pub phone_number: String,
    pub display_name: String,
    pub provider: Provider,
    pub exotel_sid: Option<String>,
    pub exotel_app_id: Option<String>,
    pub exotel_domain: Option<String>,
    pub exotel_region: Option<String>,
    pub exotel_api_key_last4: Option<String>,
    pub exotel_api_token_last4: Option<String>,
    pub twilio_account_sid: Option<String>,
    pub twilio_auth_token_last4: Option<String>,
    /// Read by the telephony lookup alone (a Twilio number's signatures are checked with it).
    #[serde(default)]
    pub twilio_auth_token_sealed: Option<String>,
    pub vonage_api_key: Option<String>,
    pub vonage_application_id: Option<String>,
    pub vonage_sample_rate: Option<u32>,
    pub vonage_api_secret_last4: Option<String>,
    pub vonage_private_key_last4: Option<String>,
    pub vonage_signature_secret_last4: Option<String>,
    /// Read by the telephony lookup alone (a Vonage number's webhook JWTs are checked with it).
    #[serde(default)]
    pub vonage_signature_secret_sealed: Option<String>,
    pub plivo_auth_id: Option<String>,
    pub plivo_content_type: Option<String>,
    pub plivo_auth_token_last4: Option<String>,
    /// Read by the telephony lookup alone (a Plivo number's signatures are checked with it).
    #[serde(default)]
    pub plivo_auth_token_sealed: Option<String>,
    pub linked_agent: Option<String>,
    pub linked_agent_name: Option<String>,
    pub status: NumberStatus,
    pub last_used: Option<String>,
    /// Read by listings and single reads (not by telephony lookups).
    #[serde(default)]
    pub last_call: Option<LastCallRow>,
    pub url_secret: String,
    /// The last ownership check (crate::db::number_checks).
    #[serde(default)]
    pub verified_at: Option<String>,
    #[serde(default)]
    pub verify_status: Option<String>,
    #[serde(default)]
    pub verify_message: Option<String>,
    #[serde(default)]
    pub verify_retry_after: Option<u64>,
    #[serde(default)]
    pub verify_checked_at: Option<String>,
    /// The credentials are the operator's defaults (never shown).
    #[serde(default)]
    pub credentials_from_env: bool,
    /// The number's routing (domain::routing::Routing as JSON); none: its linked agent answers.
    #[serde(default)]
    pub routing_json: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// The newest call of a number.
#[derive(Debug, Clone, Deserialize)]
pub struct LastCallRow {
    pub id: String,
    pub caller: Option<String>,
    pub status: CallStatus,
    pub started_at: String,
}

impl NumberRow {
    /// The linked agent's key (the row holds `agent:<key>`).
    pub fn linked_agent_id(&self) -> Option<String> {
        self.linked_agent.as_deref().map(|r| r.strip_prefix("agent:").unwrap_or(r).to_string())
    }
}

macro_rules! projection {
    () => {
        "record::id(id) AS id, record::id(owner) AS owner_id, phone_number, display_name, provider,
    exotel_sid, exotel_app_id, exotel_domain, exotel_region, exotel_api_key_last4, exotel_api_token_last4,
    twilio_account_sid, twilio_auth_token_last4, vonage_api_key, vonage_application_id, vonage_sample_rate,
    vonage_api_secret_last4, vonage_private_key_last4, vonage_signature_secret_last4, plivo_auth_id, plivo_content_type,
    plivo_auth_token_last4, linked_agent, linked_agent.name AS linked_agent_name, status, last_used, url_secret, created_at, updated_at,
    verified_at, verify_status, verify_message, verify_retry_after, verify_checked_at, credentials_from_env, routing_json"
    };
}

pub(crate) const PROJECTION: &str = projection!();

/// [`PROJECTION`] plus the number's newest call (through the `call_phone` index).
const VIEW_PROJECTION: &str = concat!(
    projection!(),
    ", (SELECT record::id(id) AS id, caller, status, started_at FROM call
        WHERE phone_id = record::id($parent.id) AND owner = $parent.owner ORDER BY started_at DESC LIMIT 1)[0] AS last_call"
);

/// Everything written for a number; `None` credentials leave the stored ones in place.
#[derive(Debug, Clone)]
pub struct NumberWrite {
    pub phone_number: String,
    pub display_name: String,
    pub provider: Provider,
    pub account_key: String,
    pub exotel_sid: Option<String>,
    pub exotel_app_id: Option<String>,
    pub exotel_domain: Option<String>,
    pub exotel_region: Option<String>,
    /// (sealed, last 4)
    pub api_key: Option<(String, String)>,
    pub api_token: Option<(String, String)>,
    pub twilio_account_sid: Option<String>,
    /// (sealed, last 4)
    pub twilio_auth_token: Option<(String, String)>,
    pub vonage: Option<VonageWrite>,
    pub plivo: Option<PlivoWrite>,
    pub linked_agent: Option<String>,
    pub status: NumberStatus,
    pub search: String,
    /// The credentials came from the operator's defaults (`None` on an edit that sent none: unchanged).
    pub from_env: Option<bool>,
}

/// A Vonage number's settings; `None` secrets (sealed, last 4) leave the stored ones in place.
#[derive(Debug, Clone)]
pub struct VonageWrite {
    pub api_key: String,
    pub application_id: String,
    pub sample_rate: u32,
    pub api_secret: Option<(String, String)>,
    pub private_key: Option<(String, String)>,
    pub signature_secret: Option<(String, String)>,
}

/// A Plivo number's settings; a `None` token (sealed, last 4) leaves the stored one in place.
#[derive(Debug, Clone)]
pub struct PlivoWrite {
    pub auth_id: String,
    pub content_type: String,
    pub auth_token: Option<(String, String)>,
}

/// The sealed fields of every provider: (column prefix, variable), each with `_sealed` and `_last4`.
const SEALED: &[(&str, &str)] = &[
    ("exotel_api_key", "key"),
    ("exotel_api_token", "token"),
    ("twilio_auth_token", "twilio"),
    ("vonage_api_secret", "vonage_secret"),
    ("vonage_private_key", "vonage_key"),
    ("vonage_signature_secret", "vonage_sig"),
    ("plivo_auth_token", "plivo_token"),
];

fn write_vars(w: &NumberWrite) -> Value {
    json!({
        "phone_number": w.phone_number, "display_name": w.display_name, "provider": w.provider,
        "account_key": w.account_key, "exotel_sid": w.exotel_sid, "exotel_app_id": w.exotel_app_id,
        "exotel_domain": w.exotel_domain, "exotel_region": w.exotel_region,
        "key_sealed": w.api_key.as_ref().map(|k| &k.0), "key_last4": w.api_key.as_ref().map(|k| &k.1),
        "token_sealed": w.api_token.as_ref().map(|k| &k.0), "token_last4": w.api_token.as_ref().map(|k| &k.1),
        "twilio_sid": w.twilio_account_sid,
        "twilio_sealed": w.twilio_auth_token.as_ref().map(|k| &k.0), "twilio_last4": w.twilio_auth_token.as_ref().map(|k| &k.1),
        "vonage_api_key": w.vonage.as_ref().map(|v| &v.api_key),
        "vonage_application_id": w.vonage.as_ref().map(|v| &v.application_id),
        "vonage_sample_rate": w.vonage.as_ref().map(|v| v.sample_rate),
        "vonage_secret_sealed": w.vonage.as_ref().and_then(|v| v.api_secret.as_ref()).map(|k| &k.0),
        "vonage_secret_last4": w.vonage.as_ref().and_then(|v| v.api_secret.as_ref()).map(|k| &k.1),
        "vonage_key_sealed": w.vonage.as_ref().and_then(|v| v.private_key.as_ref()).map(|k| &k.0),
        "vonage_key_last4": w.vonage.as_ref().and_then(|v| v.private_key.as_ref()).map(|k| &k.1),
        "vonage_sig_sealed": w.vonage.as_ref().and_then(|v| v.signature_secret.as_ref()).map(|k| &k.0),
        "vonage_sig_last4": w.vonage.as_ref().and_then(|v| v.signature_secret.as_ref()).map(|k| &k.1),
        "plivo_auth_id": w.plivo.as_ref().map(|p| &p.auth_id),
        "plivo_content_type": w.plivo.as_ref().map(|p| &p.content_type),
        "plivo_token_sealed": w.plivo.as_ref().and_then(|p| p.auth_token.as_ref()).map(|k| &k.0),
        "plivo_token_last4": w.plivo.as_ref().and_then(|p| p.auth_token.as_ref()).map(|k| &k.1),
        "agent": w.linked_agent, "status": w.status, "search": w.search, "from_env": w.from_env,
    })
}

/// `column_sealed = $var_sealed ?? NONE, column_last4 = $var_last4 ?? NONE` for each sealed
/// field given (on insert: every one).
fn sealed_sets(given: impl Fn(&str) -> bool) -> String {
    SEALED
        .iter()
        .filter(|(_, var)| given(var))
        .map(|(col, var)| format!(", {col}_sealed = ${var}_sealed ?? NONE, {col}_last4 = ${var}_last4 ?? NONE"))
        .collect()
}

// JSON null binds as NULL, which an option<string> field refuses; `?? NONE` stores "absent".
const SET_FIELDS: &str = "phone_number = $phone_number, display_name = $display_name, provider = $provider,
    account_key = $account_key, exotel_sid = $exotel_sid ?? NONE, exotel_app_id = $exotel_app_id ?? NONE,
    exotel_domain = $exotel_domain ?? NONE, exotel_region = $exotel_region ?? NONE, twilio_account_sid = $twilio_sid ?? NONE,
    vonage_api_key = $vonage_api_key ?? NONE, vonage_application_id = $vonage_application_id ?? NONE,
    vonage_sample_rate = $vonage_sample_rate ?? NONE, plivo_auth_id = $plivo_auth_id ?? NONE,
    plivo_content_type = $plivo_content_type ?? NONE,
    linked_agent = IF $agent THEN type::record('agent', $agent) ELSE NONE END,
    status = $status, search = $search, credentials_from_env = $from_env ?? credentials_from_env ?? false,
    updated_at = <datetime>$now";

fn merge(mut vars: Value, extra: Value) -> Value {
    if let (Some(v), Some(e)) = (vars.as_object_mut(), extra.as_object()) {
        v.extend(e.clone());
    }
    vars
}

/// Stores a new number with the outcome of its first ownership check (if the provider was
/// asked) and its claim: a number already imported by `owner` for the same provider account
/// fails on `phone_number_owner_unique`, one verified by another owner on `phone_number_claim`.
pub async fn insert(db: &Db, owner: &Owner, key: &str, w: &NumberWrite, new: &NewNumber<'_>, now: &str) -> Result<(), DbError> {
    let sealed = sealed_sets(|_| true);
    let sql = format!(
        "CREATE type::record('phone_number', $key) SET owner = type::record('user', $owner), {SET_FIELDS}{sealed},
            url_secret = $url_secret, claim = $claim, verify_status = $v_status ?? NONE, verify_message = $v_message ?? NONE,
            verify_retry_after = $v_retry ?? NONE, verify_checked_at = IF $v_status THEN <datetime>$now ELSE NONE END,
            verified_at = IF $v_status = 'verified' THEN <datetime>$now ELSE NONE END, created_at = <datetime>$now RETURN NONE"
    );
    let check = new.check;
    let vars = merge(
        write_vars(w),
        json!({
            "key": key, "owner": owner.id(), "url_secret": new.url_secret, "now": now, "claim": new.claim,
            "v_status": check.map(|c| c.status), "v_message": check.map(|c| &c.message), "v_retry": check.and_then(|c| c.retry_after),
        }),
    );
    rows::<Value>(db, &sql, vars).await.map(|_| ())
}

/// What only a new number has: its URL secret, its claim and its first check.
#[derive(Debug, Clone)]
pub struct NewNumber<'a> {
    pub url_secret: &'a str,
    pub claim: &'a str,
    pub check: Option<&'a super::number_checks::CheckRecord>,
}

/// Replaces a number's settings; false when `owner` has no such number.
pub async fn update(db: &Db, owner: &Owner, id: &str, w: &NumberWrite, now: &str) -> Result<bool, DbError> {
    let vars = write_vars(w);
    // A secret left empty (absent from the variables) keeps the stored one.
    let mut sets = format!("{SET_FIELDS}{}", sealed_sets(|var| !vars[format!("{var}_sealed")].is_null()));
    // A number that moves to another provider keeps no credentials of the old one.
    for (col, _) in SEALED.iter().filter(|(col, _)| !col.starts_with(w.provider.as_str())) {
        sets.push_str(&format!(", {col}_sealed = NONE, {col}_last4 = NONE"));
    }
    let sql = format!(
        "UPDATE phone_number SET {sets} WHERE id = type::record('phone_number', $id) AND owner = type::record('user', $owner) RETURN BEFORE"
    );
    let before: Vec<Value> = rows(db, &sql, merge(vars, json!({ "id": id, "owner": owner.id(), "now": now }))).await?;
    Ok(!before.is_empty())
}

/// One of `owner`'s numbers.
pub async fn get(db: &Db, owner: &Owner, id: &str) -> Result<Option<NumberRow>, DbError> {
    row(
        db,
        &format!("SELECT {VIEW_PROJECTION} FROM phone_number WHERE id = type::record('phone_number', $id) AND owner = type::record('user', $owner)"),
        json!({ "id": id, "owner": owner.id() }),
    )
    .await
}

/// Whether `owner`'s number has its provider's sealed credentials stored (Exotel's key and
/// token, Twilio's and Plivo's auth token, Vonage's three secrets).
pub async fn has_credentials(db: &Db, owner: &Owner, id: &str) -> Result<bool, DbError> {
    let found: Option<bool> = row(
        db,
        "SELECT VALUE IF provider = 'twilio' THEN twilio_auth_token_sealed IS NOT NONE
                ELSE IF provider = 'plivo' THEN plivo_auth_token_sealed IS NOT NONE
                ELSE IF provider = 'vonage' THEN (vonage_api_secret_sealed IS NOT NONE AND vonage_private_key_sealed IS NOT NONE
                    AND vonage_signature_secret_sealed IS NOT NONE)
                ELSE (exotel_api_key_sealed IS NOT NONE AND exotel_api_token_sealed IS NOT NONE) END
            FROM phone_number WHERE id = type::record('phone_number', $id) AND owner = type::record('user', $owner)",
        json!({ "id": id, "owner": owner.id() }),
    )
    .await?;
    Ok(found.unwrap_or(false))
}

/// Filters for [`list`]; already validated.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub search: Option<String>,
    pub status: Option<NumberStatus>,
    pub agent: Option<String>,
    pub provider: Option<Provider>,
    pub limit: u32,
    pub start: u32,
}

/// One page of `owner`'s numbers, newest first, and (when `count`) the total matching the filter.
pub async fn list(db: &Db, owner: &Owner, f: &ListFilter, count: bool) -> Result<(Vec<NumberRow>, Option<i64>), DbError> {
    let mut cond = String::from("owner = type::record('user', $owner)");
    if f.status.is_some() {
        cond.push_str(" AND status = $status");
    }
    if f.agent.is_some() {
        cond.push_str(" AND linked_agent = type::record('agent', $agent)");
    }
    if f.provider.is_some() {
        cond.push_str(" AND provider = $provider");
    }
    if f.search.is_some() {
        cond.push_str(" AND string::contains(search, $search)");
    }
    let vars = json!({
        "owner": owner.id(), "status": f.status, "agent": f.agent, "provider": f.provider,
        "search": f.search, "limit": f.limit, "start": f.start,
    });
    // A search reads every row of the owner (no index holds substrings): the matches are found
    // once and both counted and paged from that one pass.
    if count && f.search.is_some() {
        let sql = format!(
            "LET $all = SELECT VALUE id FROM phone_number WHERE {cond} ORDER BY created_at DESC;
             SELECT {VIEW_PROJECTION} FROM array::slice($all, $start, $limit) ORDER BY created_at DESC;
             RETURN [{{ total: array::len($all) }}];"
        );
        let mut response = query(db, &sql, vars).await?;
        let page: Vec<NumberRow> = take(&mut response, 1)?;
        let totals: Vec<Value> = take(&mut response, 2)?;
        return Ok((page, Some(totals.first().and_then(|t| t["total"].as_i64()).unwrap_or(0))));
    }
    let mut sql = format!("SELECT {VIEW_PROJECTION} FROM phone_number WHERE {cond} ORDER BY created_at DESC LIMIT $limit START $start;");
    if count {
        sql.push_str(&format!("SELECT count() AS total FROM phone_number WHERE {cond} GROUP ALL;"));
    }
    let mut response = query(db, &sql, vars).await?;
    let page: Vec<NumberRow> = take(&mut response, 0)?;
    if !count {
        return Ok((page, None));
    }
    let totals: Vec<Value> = take(&mut response, 1)?;
    Ok((page, Some(totals.first().and_then(|t| t["total"].as_i64()).unwrap_or(0))))
}

/// Deletes `owner`'s number; false when there is none.
pub async fn delete(db: &Db, owner: &Owner, id: &str) -> Result<bool, DbError> {
    let before: Vec<Value> = rows(
        db,
        "DELETE phone_number WHERE id = type::record('phone_number', $id) AND owner = type::record('user', $owner) RETURN BEFORE",
        json!({ "id": id, "owner": owner.id() }),
    )
    .await?;
    Ok(!before.is_empty())
}

/// Sets a new URL secret on `owner`'s number; false when there is none.
pub async fn set_url_secret(db: &Db, owner: &Owner, id: &str, secret: &str, now: &str) -> Result<bool, DbError> {
    let before: Vec<Value> = rows(
        db,
        "UPDATE phone_number SET url_secret = $secret, updated_at = <datetime>$now
            WHERE id = type::record('phone_number', $id) AND owner = type::record('user', $owner) RETURN BEFORE",
        json!({ "id": id, "owner": owner.id(), "secret": secret, "now": now }),
    )
    .await?;
    Ok(!before.is_empty())
}

/// A number as the telephony endpoints see it: found by id alone, checked by its URL secret or
/// its provider's signature (so the sealed tokens that check signatures are read here, and
/// nowhere else).
pub async fn find_for_telephony(db: &Db, id: &str) -> Result<Option<NumberRow>, DbError> {
    let sql = format!(
        "SELECT {PROJECTION}, twilio_auth_token_sealed, vonage_signature_secret_sealed, plivo_auth_token_sealed
            FROM phone_number WHERE id = type::record('phone_number', $id)"
    );
    row(db, &sql, json!({ "id": id })).await
}

/// Records that a call reached the number.
pub async fn touch_last_used(db: &Db, id: &str, now: &str) -> Result<(), DbError> {
    rows::<Value>(
        db,
        "UPDATE type::record('phone_number', $id) SET last_used = <datetime>$now RETURN NONE",
        json!({ "id": id, "now": now }),
    )
    .await
    .map(|_| ())
}
