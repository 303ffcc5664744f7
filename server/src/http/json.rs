//! A JSON body extractor whose rejections are `ApiError`s naming what was wrong.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use super::ApiError;

/// Like `axum::Json`, but a bad body is a 400/415 JSON error, never plain text.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(rejection) => Err(from_rejection(&rejection)),
        }
    }
}

fn from_rejection(r: &JsonRejection) -> ApiError {
    match r {
        JsonRejection::MissingJsonContentType(_) => {
            ApiError::new(axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "send Content-Type: application/json")
        }
        JsonRejection::JsonDataError(e) => {
            // serde names the offending path, e.g. "name: invalid type: integer".
            let text = e.body_text();
            let field = text.split(": ").nth(1).filter(|f| !f.contains(' ')).unwrap_or("body").to_string();
            ApiError::invalid(&field, text)
        }
        other => ApiError::invalid("body", other.body_text()),
    }
}

/// Like `axum::extract::Query`, but a bad query string is a 400 JSON error naming the parameter.
pub struct QueryArgs<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> axum::extract::FromRequestParts<S> for QueryArgs<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        serde_urlencoded::from_str(query).map(Self).map_err(|e| {
            // serde_urlencoded does not say which parameter failed: find the first one that
            // fails on its own (every listing parameter is optional, so the rest may be absent).
            let field = query
                .split('&')
                .find(|pair| serde_urlencoded::from_str::<T>(pair).is_err())
                .and_then(|pair| pair.split('=').next())
                .unwrap_or("query")
                .to_string();
            ApiError::invalid(&field, format!("bad query parameter {field}: {e}"))
        })
    }
}
