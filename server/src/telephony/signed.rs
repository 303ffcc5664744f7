//! Signed webhooks, for the providers that sign theirs (Twilio, Vonage, Plivo): the request as
//! it came ([`Webhook`]), and one extractor ([`SignedCall`]) that checks it with the provider's
//! [`WebhookCheck`] against the number's sealed key before the handler reads or writes anything.
//! A request that fails the check is 403 `bad_signature` and changes nothing.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::{HeaderMap, Method, Uri, header};
use domain::phone_number::Provider;

use super::calls::{self, AnswerError, Verified};
use super::params::{self, CallParams, MAX_INPUT, ParamError};
use crate::db::phone_numbers::NumberRow;
use crate::http::ApiError;
use crate::state::AppState;

/// A provider's webhook as it came: the number its path names, its method, URI, headers and
/// body (read under the router's body limit: 413 past it).
pub struct Webhook {
    pub id: String,
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Webhook {
    /// A header's value, when it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn content_type(&self) -> Option<&str> {
        self.header(header::CONTENT_TYPE.as_str())
    }

    /// The URL the provider called: our public URL (what the number is configured with) and the
    /// path and query as received.
    pub fn public_url(&self, state: &AppState) -> String {
        state.settings.public_link(self.uri.path_and_query().map_or(self.uri.path(), |p| p.as_str()))
    }

    /// The body as a form (empty for a JSON body).
    pub fn form(&self) -> Vec<(String, String)> {
        if self.content_type().is_some_and(|c| c.contains("json")) {
            return Vec::new();
        }
        form_urlencoded::parse(&self.body).into_owned().collect()
    }
}

impl FromRequest<AppState> for Webhook {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let (mut parts, body) = req.into_parts();
        let Path(id) = Path::<String>::from_request_parts(&mut parts, state).await.map_err(|_| ApiError::not_found("phone number"))?;
        if parts.uri.path_and_query().is_some_and(|p| p.as_str().len() > MAX_INPUT) {
            return Err(AnswerError::from(ParamError::MalformedBody("query (too long)")).into());
        }
        let (method, uri, headers) = (parts.method.clone(), parts.uri.clone(), parts.headers.clone());
        let body = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|e| ApiError::new(e.status(), "body", e.body_text()))?;
        Ok(Self { id, method, uri, headers, body })
    }
}

/// How a provider proves its webhooks are its own: a key of the number's provider account,
/// sealed on the number, that signs them.
pub trait WebhookCheck: Send + Sync + 'static {
    /// Whose numbers this check is for; a number of another provider never passes it.
    const PROVIDER: Provider;
    /// The context the signing key is sealed under.
    const KEY_CONTEXT: &'static str;

    /// The number's sealed signing key.
    fn sealed_key(number: &NumberRow) -> Option<&str>;

    /// Whether `webhook` is signed with `key` for `number`.
    fn authentic(state: &AppState, number: &NumberRow, key: &str, webhook: &Webhook) -> bool;

    /// Checks the parameters of a signed request against its number (Twilio: the account it
    /// names) and adds what the provider says in its own words (Vonage: which call a leg is of).
    fn adjust(_verified: &Verified, _raw: &mut BTreeMap<String, String>) -> Result<(), AnswerError> {
        Ok(())
    }
}

/// A webhook whose signature checked out, and the call it is about (every parameter it carried,
/// query and body, kept). As an extractor, the check runs before the handler does anything.
pub struct SignedCall<C> {
    pub id: String,
    pub verified: Verified,
    pub params: CallParams,
    check: PhantomData<C>,
}

impl<C: WebhookCheck> FromRequest<AppState> for SignedCall<C> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let webhook = Webhook::from_request(req, state).await?;
        let authentic = |number: &NumberRow| {
            number.provider == C::PROVIDER
                && open_key(state, number, C::sealed_key(number), C::KEY_CONTEXT)
                    .is_some_and(|key| C::authentic(state, number, &key, &webhook))
        };
        let verified = calls::verify(state, &webhook.id, authentic).await.map_err(|e| match e {
            AnswerError::BadKey => AnswerError::BadSignature,
            other => other,
        })?;
        let mut raw =
            params::collect(webhook.uri.query().unwrap_or_default(), webhook.content_type(), &webhook.body).map_err(AnswerError::from)?;
        C::adjust(&verified, &mut raw)?;
        let params = CallParams::from_raw(raw).map_err(AnswerError::from)?;
        Ok(Self { id: webhook.id, verified, params, check: PhantomData })
    }
}

/// Opens the provider key `sealed` of `number` (sealed under `context`), for the provider's
/// signature check; `None` (and an error logged) when it cannot be opened.
fn open_key(state: &AppState, number: &NumberRow, sealed: Option<&str>, context: &str) -> Option<String> {
    match state.secret_key().open(context, sealed?) {
        Ok(key) => Some(key),
        Err(_) => {
            tracing::error!(phone_id = %number.id, context, "cannot open the number's sealed signing key");
            None
        }
    }
}

/// The number a signed provider's stream names, for its upgrade: it must be a number of
/// `provider` (404 otherwise) and in service (403). The stream proves itself later, with the
/// per-call token its answer gave it.
pub async fn stream_number(state: &AppState, id: &str, provider: Provider) -> Result<Verified, ApiError> {
    let verified = calls::verify(state, id, |n| n.provider == provider).await.map_err(|e| match e {
        AnswerError::BadKey => AnswerError::NotFound,
        other => other,
    })?;
    if !verified.active() {
        return Err(ApiError::new(axum::http::StatusCode::FORBIDDEN, "inactive", "this number is not in service"));
    }
    Ok(verified)
}
