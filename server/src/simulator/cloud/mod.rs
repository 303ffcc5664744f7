//! A local "provider cloud": one HTTP server that answers the number-listing and place-call
//! REST APIs of Exotel, Twilio, Vonage and Plivo as shared/protocols/ describes them (their
//! auth, paging, error bodies, 429 with `Retry-After` on demand), and plays the callee of every
//! call placed and the provider's callbacks about it, so ownership checks, outbound calls and
//! campaigns can be exercised on loopback without the real clouds.
//!
//! - `exotel`, `twilio`, `vonage` (and `vonage_calls`), `plivo`: one provider's routes, answers
//!   and errors each.
//! - `calls`: what outbound calls share: the callee knobs, the dial rate, the dial log.
//! - `callee`: the callee and the callbacks of one call, in a spawned task.
//! - here: the accounts, the knobs (rate limiting, request count), routing and what they share.

mod callee;
mod calls;
mod exotel;
mod plivo;
mod transfers;
mod twilio;
mod vonage;
mod vonage_calls;

#[cfg(test)]
mod callee_tests;
#[cfg(test)]
mod calls_tests;
#[cfg(test)]
mod tests;

pub use calls::{Callee, Dialed, Voices};
pub use transfers::Transfer;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use base64::Engine;
use domain::phone_number::Provider;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One account in the cloud: its credentials and the numbers it owns.
///
/// Exotel: `id` = account SID (in the path), `key` = API key, `secret` = API token. Twilio:
/// `id` = `key` = Account SID (`AC…`), `secret` = auth token. Vonage: `id` = `key` = api_key,
/// `secret` = api_secret, and the application (`application_id`, `public_key`) and
/// `signature_secret` for calls. Plivo: `id` = `key` = auth id (`MA…`/`SA…`), `secret` = auth
/// token.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudAccount {
    /// Whose cloud the account lives in.
    pub provider: Provider,
    /// The account id the provider puts in its paths.
    pub id: String,
    /// The HTTP Basic user (or Vonage's `api_key`).
    pub key: String,
    /// The HTTP Basic password (or Vonage's `api_secret`).
    pub secret: String,
    /// The numbers the account owns, in listing order.
    pub numbers: Vec<CloudNumber>,
    /// Vonage: the application whose JWTs place calls (their `application_id` claim).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_id: Option<String>,
    /// Vonage: the application's public key (PEM). When set, a place-call JWT must be signed
    /// (RS256) with its private key; when not, any well-formed JWT naming the application does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    /// Vonage: the account's signature secret, which signs the callbacks (HS256); without it
    /// they go unsigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_secret: Option<String>,
}

/// One number an account owns.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudNumber {
    /// As the provider writes it: Exotel and Twilio `+…` (Exotel's `friendly_name` is the
    /// `0`-prefixed national form), Vonage and Plivo digits without `+`.
    pub number: String,
    /// Whether the number takes voice calls.
    #[serde(default = "yes")]
    pub voice: bool,
    /// The application the number is linked to: Vonage's `app_id`, Plivo's app id, Twilio's
    /// `voice_url`; Exotel has none.
    #[serde(default)]
    pub app: Option<String>,
}

impl CloudAccount {
    /// An account with these credentials and numbers, and no Vonage application.
    pub fn new(provider: Provider, id: &str, key: &str, secret: &str, numbers: Vec<CloudNumber>) -> Self {
        let (id, key, secret) = (id.to_string(), key.to_string(), secret.to_string());
        Self { provider, id, key, secret, numbers, application_id: None, public_key: None, signature_secret: None }
    }
}

fn yes() -> bool {
    true
}

/// What the cloud knows and has done.
#[derive(Default)]
struct Inner {
    accounts: Vec<CloudAccount>,
    /// Requests still to refuse with 429, and the `Retry-After` they carry (seconds).
    throttle: u32,
    retry_after: u64,
    requests: u64,
    /// Outbound calls: knobs, dial log, live calls.
    calls: calls::Ledger,
    /// Calls handed to a person.
    transfers: Vec<Transfer>,
}

/// The cloud's state, shared by its handlers and whoever started it (cheap to clone).
#[derive(Clone, Default)]
pub struct Cloud {
    inner: Arc<Mutex<Inner>>,
}

/// A provider's 429 body for a `Retry-After` of so many seconds.
type Refuse = fn(u64) -> Response;

impl Cloud {
    /// A cloud holding `accounts`.
    pub fn new(accounts: Vec<CloudAccount>) -> Self {
        Self { inner: Arc::new(Mutex::new(Inner { accounts, ..Inner::default() })) }
    }

    /// A cloud from a JSON array of [`CloudAccount`]s.
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str::<Vec<CloudAccount>>(json).map(Self::new)
    }

    /// Adds an account (while serving, too).
    pub fn add_account(&self, account: CloudAccount) {
        self.lock().accounts.push(account);
    }

    /// The next `requests` requests (to any provider) get that provider's 429 with
    /// `Retry-After: retry_after_secs`.
    pub fn rate_limit(&self, requests: u32, retry_after_secs: u64) {
        let mut inner = self.lock();
        inner.throttle = requests;
        inner.retry_after = retry_after_secs;
    }

    /// Requests received so far, the refused ones included.
    pub fn requests(&self) -> u64 {
        self.lock().requests
    }

    /// The four providers' routes, counted and rate limited (place-call routes also by
    /// [`Cloud::dial_rate`]).
    pub fn router(&self) -> Router {
        let gated =
            |routes: Router<Cloud>, refuse: Refuse| routes.route_layer(middleware::from_fn_with_state((self.clone(), refuse), gate));
        let dialing = |routes: Router<Cloud>, refuse: Refuse| {
            gated(routes.route_layer(middleware::from_fn_with_state((self.clone(), refuse), calls::dial_gate)), refuse)
        };
        Router::new()
            .merge(gated(exotel::routes(), exotel::too_many))
            .merge(dialing(exotel::calls(), exotel::too_many))
            .merge(gated(twilio::routes(), twilio::too_many))
            .merge(dialing(twilio::calls(), twilio::too_many))
            .merge(gated(vonage::routes(), vonage::too_many))
            .merge(dialing(vonage_calls::calls(), vonage_calls::too_many_calls))
            .merge(gated(plivo::routes(), plivo::too_many))
            .merge(dialing(plivo::calls(), plivo::too_many))
            .merge(transfers::routes())
            .layer(middleware::from_fn_with_state(self.clone(), count))
            .with_state(self.clone())
    }

    /// A poisoned lock still holds consistent data (every update is one assignment).
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The account of `provider` these credentials open (whose `id` is `id`, when given).
    fn account(&self, provider: Provider, id: Option<&str>, key: &str, secret: &str) -> Option<CloudAccount> {
        let inner = self.lock();
        inner
            .accounts
            .iter()
            .find(|a| a.provider == provider && id.is_none_or(|id| a.id == id) && a.key == key && a.secret == secret)
            .cloned()
    }

    /// Uses up one refusal of [`Cloud::rate_limit`]: its `Retry-After`, or `None` to serve.
    fn take_throttle(&self) -> Option<u64> {
        let mut inner = self.lock();
        (inner.throttle > 0).then(|| {
            inner.throttle -= 1;
            inner.retry_after
        })
    }
}

async fn count(State(cloud): State<Cloud>, request: Request, next: Next) -> Response {
    cloud.lock().requests += 1;
    next.run(request).await
}

async fn gate(State((cloud, refuse)): State<(Cloud, Refuse)>, request: Request, next: Next) -> Response {
    let Some(secs) = cloud.take_throttle() else {
        return next.run(request).await;
    };
    let mut response = refuse(secs);
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
    response
}

/// Serves the cloud on `listener` until the task is dropped.
pub async fn serve(listener: tokio::net::TcpListener, cloud: Cloud) -> std::io::Result<()> {
    axum::serve(listener, cloud.router()).await
}

/// Serves the cloud on a free loopback port in a spawned task; returns its address.
pub async fn start(cloud: Cloud) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(e) = serve(listener, cloud).await {
            tracing::warn!(error = %e, "the provider cloud stopped");
        }
    });
    Ok(addr)
}

/// The user and password of an HTTP Basic `Authorization` header.
fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let (user, password) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// A request's query, decoded as forms are (`%2B` is `+`, a bare `+` a space).
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(raw: Option<&str>) -> Self {
        Self::form(raw.unwrap_or_default().as_bytes())
    }

    /// A form body's parameters.
    fn form(body: &[u8]) -> Self {
        Self(form_urlencoded::parse(body).into_owned().collect())
    }

    /// Every value of parameters whose name is `name` or starts with `name[` (Exotel's
    /// `StatusCallbackEvents[0]`), in order.
    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        self.0
            .iter()
            .filter(move |(k, _)| k == name || k.strip_prefix(name).is_some_and(|rest| rest.starts_with('[')))
            .map(|(_, v)| v.as_str())
    }

    /// The first value under any of `names` (a provider's alternative spellings).
    fn get(&self, names: &[&str]) -> Option<&str> {
        self.0.iter().find(|(k, _)| names.contains(&k.as_str())).map(|(_, v)| v.as_str())
    }

    /// A whole number under any of `names`; `Err` names the parameter that is no whole number.
    fn number(&self, names: &[&str]) -> Result<Option<u64>, String> {
        let Some(value) = self.get(names) else {
            return Ok(None);
        };
        value.trim().parse().map(Some).map_err(|_| names.first().copied().unwrap_or_default().to_string())
    }
}

/// At most `size` items from `start` (empty past the end; never overflows).
fn window<T>(items: &[T], start: u64, size: u64) -> &[T] {
    let start = usize::try_from(start).unwrap_or(usize::MAX).min(items.len());
    let end = start.saturating_add(usize::try_from(size).unwrap_or(usize::MAX)).min(items.len());
    &items[start..end]
}

/// A stable 32-hex-digit id for `parts` (the same number in the same account keeps its sid).
fn stable_hex(parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    hex::encode(&hash.finalize()[..16])
}

/// A random id shaped like a UUID (Plivo's `api_id`).
fn uuid() -> String {
    let h = crate::secrets::random_string(b"0123456789abcdef", 32);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

/// The ISO country of an international number (with or without `+`), for the few countries
/// the simulator's numbers come from; empty when unknown.
fn country_of(number: &str) -> &'static str {
    const PREFIXES: &[(&str, &str)] =
        &[("971", "AE"), ("44", "GB"), ("91", "IN"), ("65", "SG"), ("61", "AU"), ("49", "DE"), ("33", "FR"), ("1", "US")];
    let digits = number.trim_start_matches('+');
    PREFIXES.iter().find(|(prefix, _)| digits.starts_with(prefix)).map_or("", |(_, country)| country)
}

/// A JSON answer with `status`.
fn reply(status: StatusCode, body: serde_json::Value) -> Response {
    (status, Json(body)).into_response()
}
