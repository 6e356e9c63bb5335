//! Errors as `application/problem+json` (RFC 9457). The one place an [`ErrorKind`] becomes an HTTP status.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use productsmanager_core::{Error, ErrorKind};
use serde::Serialize;

/// Media type of error bodies.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An SDK error on its way to the client.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        ApiError(error)
    }
}

impl From<productsmanager_core::input::InputError> for ApiError {
    fn from(error: productsmanager_core::input::InputError) -> Self {
        ApiError(error.into())
    }
}

// A handler that can also answer a status no `ErrorKind` has (413, 412) returns `Result<_, Response>`; this lets
// `?` take its other errors there.
impl From<ApiError> for Response {
    fn from(error: ApiError) -> Self {
        error.into_response()
    }
}

/// The HTTP status of each kind of error.
pub fn status_for(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::Unsupported => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Body of an error response.
#[derive(Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Problem {
    /// `urn:productsmanager:problem:<kind>`: stable, for clients to switch on.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The input field at fault, when the error is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// A problem+json response.
pub fn problem(kind: ErrorKind, detail: impl Into<String>) -> Response {
    problem_with_field(kind, detail, None)
}

/// A problem+json response naming the input field at fault.
pub fn problem_with_field(kind: ErrorKind, detail: impl Into<String>, field: Option<String>) -> Response {
    problem_response(status_for(kind), kind.as_str(), detail.into(), field)
}

/// 413: the request body is larger than the limit.
pub fn payload_too_large(detail: impl Into<String>) -> Response {
    problem_response(StatusCode::PAYLOAD_TOO_LARGE, "too_large", detail.into(), Some("body".to_string()))
}

/// 405: the path exists, not with this method (the caller adds `Allow`).
pub fn method_not_allowed(detail: impl Into<String>) -> Response {
    problem_response(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", detail.into(), None)
}

/// 412: the `If-Match` precondition does not hold (the entity changed since the client read it).
pub fn precondition_failed(detail: impl Into<String>) -> Response {
    problem_response(StatusCode::PRECONDITION_FAILED, "precondition_failed", detail.into(), Some("If-Match".into()))
}

fn problem_response(status: StatusCode, type_name: &str, detail: String, field: Option<String>) -> Response {
    let body = Problem {
        problem_type: format!("urn:productsmanager:problem:{type_name}"),
        title: status.canonical_reason().unwrap_or("Error").to_string(),
        status: status.as_u16(),
        detail,
        field,
    };
    let mut response = (status, axum::Json(body)).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let kind = self.0.kind();
        if kind == ErrorKind::Internal {
            // Details stay in the log; the client gets the request id (response header) to quote.
            tracing::error!(error = ?self.0, "internal error");
            return problem(kind, "internal error; the server log has the details");
        }
        tracing::debug!(error = %self.0, "request failed");
        let mut response = problem_with_field(kind, self.0.to_string(), self.0.field().map(str::to_string));
        if let Some(seconds) = self.0.retry_after_secs() {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
