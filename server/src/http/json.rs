//! A JSON body extractor whose rejections are `ApiError`s naming what was wrong.

use axum::extract::{FromRequest, Request};
use axum::extract::rejection::JsonRejection;
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
        JsonRejection::MissingJsonContentType(_) => ApiError {
            status: axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code: "unsupported_media_type",
            message: "send Content-Type: application/json".into(),
            field: None,
        },
        JsonRejection::JsonDataError(e) => {
            // serde names the offending path, e.g. "name: invalid type: integer".
            let text = e.body_text();
            let field = text.split(": ").nth(1).filter(|f| !f.contains(' ')).unwrap_or("body").to_string();
            ApiError::invalid(&field, text)
        }
        other => ApiError::invalid("body", other.body_text()),
    }
}
