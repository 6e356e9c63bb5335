//! The console's way to the API: requests handed to the API router in-process, with the signed-in user's access
//! token as the bearer. Permissions, rate limits, validation and the activity log are the API's, unchanged.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tower::ServiceExt;

use crate::REQUEST_ID;
use crate::error::Problem;

/// What went wrong on the way to or in the API, as the console shows it.
#[derive(Debug)]
pub(crate) struct ApiFailure {
    pub(crate) status: StatusCode,
    pub(crate) problem: Problem,
}

impl ApiFailure {
    /// A failure of the console itself (a response it could not read), not one the API answered with.
    pub(crate) fn internal(detail: impl Into<String>) -> Self {
        let status = StatusCode::INTERNAL_SERVER_ERROR;
        let problem = Problem {
            problem_type: "urn:productsmanager:problem:internal".to_string(),
            title: "Internal error".to_string(),
            status: status.as_u16(),
            detail: detail.into(),
            field: None,
        };
        ApiFailure { status, problem }
    }
}

/// An API answer that was not an error.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) body: Bytes,
}

impl Answer {
    /// The body as JSON of type `T`.
    pub(crate) fn json<T: DeserializeOwned>(&self) -> Result<T, ApiFailure> {
        serde_json::from_slice(&self.body).map_err(|e| ApiFailure::internal(format!("unexpected API answer: {e}")))
    }
}

/// One console request's client of the API: the caller's token and where the request came from.
#[derive(Debug, Clone)]
pub(crate) struct Api {
    router: Router,
    token: Option<String>,
    /// Passed on to the API: the peer address (sign-in lockout, activity log), the user agent, the request id.
    connect_info: Option<ConnectInfo<std::net::SocketAddr>>,
    forwarded: HeaderMap,
    /// Shared by this page's calls: the caller's rate limit counts the page once, not each call that renders it.
    page: crate::policy::ConsolePage,
}

impl Api {
    pub(crate) fn new(router: Router, parts: &axum::http::request::Parts) -> Self {
        let mut forwarded = HeaderMap::new();
        for name in [header::USER_AGENT, REQUEST_ID] {
            if let Some(value) = parts.headers.get(&name) {
                forwarded.insert(name, value.clone());
            }
        }
        let connect_info = parts.extensions.get::<ConnectInfo<std::net::SocketAddr>>().cloned();
        Api { router, token: None, connect_info, forwarded, page: crate::policy::ConsolePage::default() }
    }

    /// The same client, acting with `token`.
    pub(crate) fn with_token(mut self, token: &str) -> Self {
        self.token = Some(token.to_string());
        self
    }

    pub(crate) async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiFailure> {
        self.send(Method::GET, path, HeaderMap::new(), Body::empty()).await?.json()
    }

    /// A JSON request; the answer as it came (headers and body).
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        body: &impl Serialize,
        headers: HeaderMap,
    ) -> Result<Answer, ApiFailure> {
        let mut headers = headers;
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let body = serde_json::to_vec(body).map_err(|e| ApiFailure::internal(e.to_string()))?;
        self.send(method, path, headers, Body::from(body)).await
    }

    /// A JSON request whose answer is JSON of type `T`.
    pub(crate) async fn send_json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, ApiFailure> {
        self.call(method, path, body, HeaderMap::new()).await?.json()
    }

    /// The browser's own request handed to the API with the caller's token, and the API's response as it is (a
    /// WebSocket upgrade included: the request keeps the connection's upgrade handle).
    pub(crate) async fn forward(&self, mut request: Request<Body>) -> axum::response::Response {
        request.headers_mut().remove(header::COOKIE);
        // The API routes it afresh (its policy goes by the route it matches, not the console's).
        request.extensions_mut().remove::<axum::extract::MatchedPath>();
        request.extensions_mut().insert(self.page.clone());
        if let Some(token) = &self.token
            && let Ok(value) = HeaderValue::from_str(&format!("Bearer {token}"))
        {
            request.headers_mut().insert(header::AUTHORIZATION, value);
        }
        match self.router.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }

    /// The browser's form (an upload: `multipart/form-data`) posted to the API at `path` as it came: the same
    /// fields, the file streamed through.
    pub(crate) async fn post_form(&self, path: &str, request: Request<Body>) -> Result<Answer, ApiFailure> {
        let (parts, body) = request.into_parts();
        let mut headers = HeaderMap::new();
        for name in [header::CONTENT_TYPE, header::CONTENT_LENGTH] {
            if let Some(value) = parts.headers.get(&name) {
                headers.insert(name, value.clone());
            }
        }
        self.send(Method::POST, path, headers, body).await
    }

    /// Any request: `headers` and `body` go to the API as they are (an upload streams through).
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        headers: HeaderMap,
        body: Body,
    ) -> Result<Answer, ApiFailure> {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .body(body)
            .map_err(|e| ApiFailure::internal(format!("cannot build the request to {path}: {e}")))?;
        request.headers_mut().extend(self.forwarded.clone());
        request.headers_mut().extend(headers);
        if let Some(token) = &self.token {
            let value = HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|_| ApiFailure::internal("the session's token is not a header value"))?;
            request.headers_mut().insert(header::AUTHORIZATION, value);
        }
        if let Some(info) = self.connect_info {
            request.extensions_mut().insert(info);
        }
        request.extensions_mut().insert(self.page.clone());
        let response = match self.router.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX)
            .await
            .map_err(|e| ApiFailure::internal(format!("cannot read the API's answer: {e}")))?;
        if parts.status.is_success() {
            return Ok(Answer { body });
        }
        let problem = serde_json::from_slice::<Problem>(&body).unwrap_or_else(|_| Problem {
            problem_type: "urn:productsmanager:problem:internal".to_string(),
            title: parts.status.canonical_reason().unwrap_or("Error").to_string(),
            status: parts.status.as_u16(),
            detail: String::from_utf8_lossy(&body).chars().take(500).collect(),
            field: None,
        });
        Err(ApiFailure { status: parts.status, problem })
    }
}
