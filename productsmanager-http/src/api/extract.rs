//! Request extractors whose failures are problem+json answers naming the field.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use productsmanager_core::input::{InputError, parse_json};
use serde::de::DeserializeOwned;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, payload_too_large, problem_with_field};

/// A JSON body parsed with [`parse_json`]: a body that does not fit is a 422 naming the field, line and column.
#[derive(Debug)]
pub(crate) struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let body_error = |reason: String| {
            ApiError::from(InputError { field: "body".to_string(), reason, line: 1, column: 1 }).into_response()
        };
        let declared = request.headers().get(axum::http::header::CONTENT_TYPE).cloned();
        let body = Bytes::from_request(request, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                payload_too_large(format!("{} (limit: http.max_body_bytes)", e.body_text()))
            } else {
                body_error(e.body_text())
            }
        })?;
        // Only a body declared JSON is read as JSON: `text/plain` and form types are what a page on another site can
        // make a browser send without asking (no CORS preflight).
        if !body.is_empty() && !declared.as_ref().is_some_and(is_json) {
            let said = declared.as_ref().and_then(|t| t.to_str().ok()).unwrap_or("no Content-Type");
            return Err(problem_with_field(
                productsmanager_core::ErrorKind::Unsupported,
                format!(
                    "the body must be sent as application/json, not {said} (with curl: -H 'Content-Type: \
                     application/json')"
                ),
                Some("Content-Type".into()),
            ));
        }
        let text = std::str::from_utf8(&body).map_err(|e| body_error(format!("not UTF-8: {e}")))?;
        Ok(ApiJson(parse_json(text).map_err(|e| ApiError::from(e).into_response())?))
    }
}

/// Whether a `Content-Type` is JSON: `application/json` or a `+json` type (`application/merge-patch+json`), any
/// parameters (`; charset=utf-8`) aside.
fn is_json(content_type: &axum::http::HeaderValue) -> bool {
    let essence = content_type.to_str().unwrap_or_default().split(';').next().unwrap_or_default().trim();
    let essence = essence.to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Where the request comes from: the peer address (when the server was started with connection info, as
/// [`crate::serve`] does) and the `User-Agent`. Never fails. Forwarded-for headers are not trusted.
#[derive(Debug)]
pub(crate) struct Client(pub productsmanager_core::auth::ClientInfo);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let address = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip().to_string());
        let user_agent = parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(512).collect());
        Ok(Client(productsmanager_core::auth::ClientInfo { address, user_agent }))
    }
}

/// The authenticated caller, as the policy established it for a protected route.
#[derive(Debug)]
pub(crate) struct Caller(pub productsmanager_core::auth::Principal);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Caller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<productsmanager_core::auth::Principal>() {
            Some(principal) => Ok(Caller(principal.clone())),
            // A public route asking for a caller is a programming error; refuse rather than act as nobody.
            None => Err(crate::error::problem(productsmanager_core::ErrorKind::Unauthorized, "credentials needed")),
        }
    }
}

/// Query-string parameters parsed into `T`: a parameter that does not fit is a 422 naming it.
#[derive(Debug)]
pub(crate) struct ApiQuery<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        if let Some((name, _)) = form_urlencoded::parse(query.as_bytes()).find(|(_, value)| value.contains('\0')) {
            let reason = "contains a NUL character".to_string();
            return Err(ApiError::from(InputError { field: name.into_owned(), reason, line: 1, column: 1 }));
        }
        let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer).map(ApiQuery).map_err(|e| {
            let path = e.path().to_string();
            let field = if path.is_empty() || path == "." || path == "?" { "query".to_string() } else { path };
            ApiError::from(InputError { field, reason: e.into_inner().to_string(), line: 1, column: 1 })
        })
    }
}
