//! Accounts: sign-up, login, sessions and API tokens. The only place an [`Owner`] is made.

pub mod limiter;
pub mod password;
pub mod signup;

use std::net::IpAddr;

use sha2::{Digest, Sha256};

use crate::db::{self, DbError, users as repo};
use crate::state::AppState;

/// How long a login session lasts.
pub const SESSION_DAYS: i64 = 14;
/// The session cookie's name.
pub const SESSION_COOKIE: &str = "vg_session";
/// Every API token starts with this, so leaked tokens are easy to spot.
pub const TOKEN_PREFIX: &str = "vg_";

/// The user every row belongs to. Only authentication makes one, so every repository call
/// that takes an `&Owner` is scoped to a signed-in user by construction.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Owner(String);

impl Owner {
    /// The owner recorded on a row that was found without a user (telephony lookups by a
    /// number's id and URL secret). Only repositories' owner columns may feed this.
    pub(crate) fn of_row(user_id: String) -> Self {
        Self(user_id)
    }

    /// The user's record key.
    pub fn id(&self) -> &str {
        &self.0
    }
}

/// A signed-in user, resolved from a session cookie or an API token.
#[derive(Debug, Clone, PartialEq)]
pub struct CurrentUser {
    pub owner: Owner,
    pub email: String,
}

impl From<repo::Principal> for CurrentUser {
    fn from(p: repo::Principal) -> Self {
        Self { owner: Owner(p.user_id), email: p.email }
    }
}

/// What can go wrong in account actions; `Invalid` names the form field.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{message}")]
    Invalid { field: &'static str, message: String },
    #[error("Incorrect e-mail or password.")]
    BadCredentials,
    #[error("Too many sign-in attempts. Wait {0} seconds and try again.")]
    TooManyAttempts(u64),
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// `VOXGATE_SIGNUP=closed`.
    #[error("Sign-up is closed on this server. Ask its operator for an account.")]
    SignupClosed,
    /// Too many sign-ins and sign-ups are hashing at once.
    #[error("The server is busy. Try again in a few seconds.")]
    Busy(#[from] crate::queue::Busy),
}

/// Argon2 runs: one per core at once, a bounded line behind them (each takes ~50 ms of a core).
static HASHING: std::sync::LazyLock<crate::queue::WorkQueue> = std::sync::LazyLock::new(crate::queue::WorkQueue::for_this_machine);

fn invalid(field: &'static str, message: impl Into<String>) -> AuthError {
    AuthError::Invalid { field, message: message.into() }
}

/// Lower-cases and checks an e-mail address.
pub fn normalize_email(raw: &str) -> Result<String, AuthError> {
    let email = raw.trim().to_lowercase();
    if email.is_empty() {
        return Err(invalid("email", "Enter your e-mail address."));
    }
    // Plain ASCII addresses only: quoted or bracketed forms are valid RFC 5322 but refused by
    // the schema's string::is_email, and no provider dashboard needs them.
    let plain = email.is_ascii() && !email.contains(['"', '[', ']', ' ', '(', ')', ',', ';', ':', '<', '>', '\\']);
    if email.len() > 254 || !plain || !email_address::EmailAddress::is_valid(&email) || !email.contains('.') {
        return Err(invalid("email", "Enter a valid e-mail address, like name@example.com."));
    }
    Ok(email)
}

/// SHA-256 hex of a token: what the database stores instead of the token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn random_token(len: usize) -> String {
    crate::secrets::random_string(crate::secrets::ALPHANUMERIC, len)
}

/// Runs a password hash or check on a blocking thread, through [`HASHING`].
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, AuthError> {
    HASHING.run("password hashing", async { tokio::task::spawn_blocking(f).await.map_err(|e| AuthError::Hash(e.to_string())) }).await
}

/// Creates an account from the dashboard, under the server's sign-up mode (an invite code
/// when it asks for one) and the per-IP limit (hashing is costly).
pub async fn sign_up_from(
    state: &AppState,
    email: &str,
    password: &str,
    ip: Option<IpAddr>,
    invite: Option<&str>,
) -> Result<CurrentUser, AuthError> {
    signup::check_open(state, invite)?;
    state.login_limiter.check_ip(ip).map_err(AuthError::TooManyAttempts)?;
    let Some(code) = invite.filter(|_| state.settings.signup == signup::SignupMode::Invite) else {
        return sign_up(state, email, password).await;
    };
    // The code is used up before the account exists (two sign-ups cannot share it), and given
    // back if the account cannot be created.
    let who = normalize_email(email)?;
    password::validate(password).map_err(|m| invalid("password", m))?;
    signup::redeem(state, code, &who).await?;
    match sign_up(state, email, password).await {
        Ok(user) => Ok(user),
        Err(e) => {
            signup::release(state, code).await;
            Err(e)
        }
    }
}

/// Creates an account; the e-mail must be new and the password long enough.
pub async fn sign_up(state: &AppState, email: &str, password: &str) -> Result<CurrentUser, AuthError> {
    let email = normalize_email(email)?;
    password::validate(password).map_err(|m| invalid("password", m))?;
    if repo::find_by_email(&state.db, &email).await?.is_some() {
        return Err(duplicate());
    }
    let pw = password.to_string();
    let hash = blocking(move || password::hash(&pw)).await?.map_err(|e| AuthError::Hash(e.to_string()))?;
    let key = db::new_key();
    match repo::insert_user(&state.db, &key, &email, &hash, &state.clock.now_rfc3339()).await {
        Ok(()) => {
            tracing::info!(user_id = %key, "account created");
            Ok(CurrentUser { owner: Owner(key), email })
        }
        Err(e) if e.is_unique_violation("user_email") => Err(duplicate()),
        Err(e) => Err(e.into()),
    }
}

fn duplicate() -> AuthError {
    invalid("email", "An account with this e-mail already exists. Log in instead.")
}

/// Checks credentials under the login limits and opens a session; returns the session token.
pub async fn log_in(state: &AppState, email: &str, password: &str, ip: Option<IpAddr>) -> Result<(CurrentUser, String), AuthError> {
    let email = normalize_email(email)?;
    if password.is_empty() {
        return Err(invalid("password", "Enter your password."));
    }
    state.login_limiter.check(&email, ip).map_err(AuthError::TooManyAttempts)?;
    let user = repo::find_by_email(&state.db, &email).await?;
    let pw = password.to_string();
    let ok = match &user {
        Some(u) => {
            let phc = u.password_hash.clone();
            blocking(move || password::verify(&pw, &phc)).await?
        }
        None => {
            blocking(move || password::verify_nobody(&pw)).await?;
            false
        }
    };
    let Some(user) = user.filter(|_| ok) else {
        tracing::info!(ip = ?ip, "login refused");
        return Err(AuthError::BadCredentials);
    };
    let token = open_session(state, &Owner(user.id.clone())).await?;
    tracing::info!(user_id = %user.id, "logged in");
    Ok((CurrentUser { owner: Owner(user.id), email: user.email }, token))
}

/// The account with this e-mail, for operator commands run on the server's host
/// (`voxgate token create`); never reachable from HTTP.
pub async fn operator_lookup(state: &AppState, email: &str) -> Result<CurrentUser, AuthError> {
    let email = normalize_email(email)?;
    let user = repo::find_by_email(&state.db, &email).await?.ok_or(AuthError::NotFound)?;
    Ok(CurrentUser { owner: Owner(user.id), email: user.email })
}

/// Opens a session for `owner` and returns its token (only the hash is stored).
pub async fn open_session(state: &AppState, owner: &Owner) -> Result<String, AuthError> {
    let token = random_token(43);
    let now = state.clock.now();
    let expires = now + chrono::Duration::days(SESSION_DAYS);
    repo::insert_session(&state.db, owner.id(), &token_hash(&token), &crate::clock::rfc3339(now), &crate::clock::rfc3339(expires)).await?;
    Ok(token)
}

/// Ends the session with this token (no error if it is already gone).
pub async fn log_out(state: &AppState, session_token: &str) -> Result<(), AuthError> {
    Ok(repo::delete_session(&state.db, &token_hash(session_token), &state.clock.now_rfc3339()).await?)
}

/// The user of an unexpired session token.
pub async fn session_user(state: &AppState, session_token: &str) -> Result<Option<CurrentUser>, DbError> {
    Ok(repo::session_principal(&state.db, &token_hash(session_token), &state.clock.now_rfc3339()).await?.map(Into::into))
}

/// The user of an API token.
pub async fn token_user(state: &AppState, api_token: &str) -> Result<Option<CurrentUser>, DbError> {
    if !api_token.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    Ok(repo::token_principal(&state.db, &token_hash(api_token), &state.clock.now_rfc3339()).await?.map(Into::into))
}

/// An API token as listed: the token itself is only ever returned by [`create_token`].
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    /// The first characters of the token, to tell tokens apart.
    pub prefix: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

impl From<repo::TokenRow> for ApiToken {
    fn from(r: repo::TokenRow) -> Self {
        Self { id: r.id, name: r.name, prefix: r.prefix, created_at: r.created_at, last_used_at: r.last_used_at }
    }
}

/// Creates an API token; returns it listed and, once, in full.
pub async fn create_token(state: &AppState, owner: &Owner, name: &str) -> Result<(ApiToken, String), AuthError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(invalid("name", "Give the token a name, e.g. \"CRM sync\"."));
    }
    if name.chars().count() > 64 {
        return Err(invalid("name", "Use at most 64 characters."));
    }
    let token = format!("{TOKEN_PREFIX}{}", random_token(40));
    let prefix: String = token.chars().take(TOKEN_PREFIX.len() + 6).collect();
    let row = repo::insert_token(&state.db, owner, &db::new_key(), name, &prefix, &token_hash(&token), &state.clock.now_rfc3339()).await?;
    tracing::info!(user_id = %owner.id(), token_id = %row.id, "API token created");
    Ok((row.into(), token))
}

/// `owner`'s API tokens, newest first.
pub async fn list_tokens(state: &AppState, owner: &Owner) -> Result<Vec<ApiToken>, AuthError> {
    Ok(repo::list_tokens(&state.db, owner).await?.into_iter().map(Into::into).collect())
}

/// Revokes `owner`'s token; another user's id is `NotFound`, like a missing one.
pub async fn revoke_token(state: &AppState, owner: &Owner, id: &str) -> Result<(), AuthError> {
    if repo::delete_token(&state.db, owner, id).await? {
        tracing::info!(user_id = %owner.id(), token_id = %id, "API token revoked");
        Ok(())
    } else {
        Err(AuthError::NotFound)
    }
}
