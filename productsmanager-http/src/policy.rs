//! Who may call which route, and for how long: one middleware applies, to every route, what the OpenAPI document
//! declares for it. An operation's `security` names the permission it needs (or `[{}]`: public); a route missing
//! from the document is refused outright, so a route cannot ship without a declared permission.
//!
//! Order on a protected route: credentials (401), rate limit per user or API key (429 with `Retry-After`),
//! permission (403), then the handler under the request timeout (503 when it runs out); afterwards a write is
//! recorded in the activity log (user, API key, operation, entity, status, address), without waiting for it. A path holding an encoded
//! NUL (`%00`) is refused (422) on every route: no database we use stores one.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};
use productsmanager_core::analytics::UserActivity;
use productsmanager_core::auth::{PERMISSIONS, Principal};
use productsmanager_core::config::HttpConfig;
use productsmanager_core::input::InputError;
use productsmanager_core::{ErrorKind, Sdk};
use uuid::Uuid;

use crate::error::{ApiError, problem};
use crate::openapi::BEARER;

/// What a route needs from its caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Access {
    Public,
    /// Any signed-in caller: routes about the caller's own account (notifications, the WebSocket), declared as
    /// `security(("bearer" = []))`.
    SignedIn,
    Requires(String),
}

#[derive(Debug)]
struct Rule {
    access: Access,
    /// Takes a file (multipart): the upload timeout applies instead of the request timeout.
    upload: bool,
    /// The operation id (`products_update`): the action a write is recorded as.
    action: String,
    /// The operation's tag (`products`): the kind of entity a write is recorded against.
    entity: Option<String>,
}

/// Marks the API calls the console makes to render one page (a request extension, which no remote caller can set):
/// the first is counted by the caller's rate limit, the others are not.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConsolePage(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl ConsolePage {
    /// Whether an earlier call of this page was counted (this one is then not); marks it counted either way.
    fn counted_before(&self) -> bool {
        self.0.swap(true, std::sync::atomic::Ordering::Relaxed)
    }
}

/// Rate checks between two prunings of the limiter's table.
const PRUNE_EVERY: u32 = 4096;

type Limiter = RateLimiter<Uuid, HashMapStateStore<Uuid>, DefaultClock>;

/// The access table and limits, shared by every request.
#[derive(Debug)]
pub(crate) struct Policy {
    sdk: Sdk,
    rules: HashMap<(Method, String), Rule>,
    limiter: Option<Limiter>,
    /// Rate checks since the limiter last forgot callers whose allowance is full again.
    checks: std::sync::atomic::AtomicU32,
    request_timeout: Duration,
    upload_timeout: Duration,
}

impl Policy {
    /// Reads the access table out of the OpenAPI document. Fails (naming the operation) when an operation
    /// declares no security, more than one permission, or a permission that does not exist.
    pub(crate) fn new(sdk: Sdk, document: &serde_json::Value, http: &HttpConfig) -> Result<Self, String> {
        let mut rules = HashMap::new();
        let paths = document.get("paths").and_then(|p| p.as_object()).ok_or("the document has no paths")?;
        for (path, item) in paths {
            for method in ["get", "put", "post", "delete", "patch", "head", "options", "trace"] {
                let Some(operation) = item.get(method) else { continue };
                let name = format!("{} {path}", method.to_uppercase());
                let access = access_of(operation).map_err(|reason| format!("{name}: {reason}"))?;
                let upload = operation.pointer("/requestBody/content/multipart~1form-data").is_some();
                let action = operation.get("operationId").and_then(|id| id.as_str()).unwrap_or(&name).to_string();
                let entity = operation.pointer("/tags/0").and_then(|t| t.as_str()).map(str::to_string);
                let method = Method::from_bytes(method.to_uppercase().as_bytes()).map_err(|e| e.to_string())?;
                rules.insert((method, path.clone()), Rule { access, upload, action, entity });
            }
        }
        let limiter = NonZeroU32::new(u32::try_from(http.rate_limit_per_second).unwrap_or(u32::MAX)).map(|rate| {
            let burst = NonZeroU32::new(u32::try_from(http.rate_limit_burst).unwrap_or(u32::MAX)).unwrap_or(rate);
            RateLimiter::hashmap(Quota::per_second(rate).allow_burst(burst))
        });
        Ok(Policy {
            sdk,
            rules,
            limiter,
            checks: std::sync::atomic::AtomicU32::new(0),
            request_timeout: Duration::from_secs(http.request_timeout_secs),
            upload_timeout: Duration::from_secs(http.upload_timeout_secs),
        })
    }

    /// The methods the document declares for `route`, sorted (empty for a route it does not have).
    fn methods_of(&self, route: &str) -> Vec<&str> {
        let mut methods: Vec<&str> =
            self.rules.keys().filter(|(_, path)| path == route).map(|(method, _)| method.as_str()).collect();
        methods.sort_unstable();
        methods
    }

    /// Authenticates the bearer credential, applies the caller's rate limit (unless `counted` already) and checks
    /// `permission` (if any).
    async fn authorize(
        &self,
        headers: &HeaderMap,
        permission: Option<&str>,
        counted: bool,
    ) -> Result<Principal, Response> {
        let Some(token) = bearer(headers) else {
            return Err(challenge(problem(
                ErrorKind::Unauthorized,
                "credentials needed: `Authorization: Bearer <access token or API key>`",
            )));
        };
        let principal = self.sdk.auth().authenticate(token).await.map_err(|e| {
            let response = ApiError(e).into_response();
            if response.status() == axum::http::StatusCode::UNAUTHORIZED { challenge(response) } else { response }
        })?;
        if let Some(limiter) = self.limiter.as_ref().filter(|_| !counted) {
            let caller = principal.api_key_id.unwrap_or(principal.user_id);
            // Callers are users and keys, so the table stays small; still, one that is gone should not stay.
            if self.checks.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
                limiter.retain_recent();
                limiter.shrink_to_fit();
            }
            if let Err(not_until) = limiter.check_key(&caller) {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                let mut response =
                    problem(ErrorKind::RateLimited, format!("too many requests; try again in {} s", seconds.max(1)));
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
                return Err(response);
            }
        }
        if let Some(permission) = permission {
            principal.require(permission).map_err(|e| ApiError(e.into()).into_response())?;
        }
        Ok(principal)
    }
}

/// Middleware over every route: enforces the route's declared access, then runs it under its timeout. The
/// authenticated caller is left in the request's extensions for the handler.
pub(crate) async fn enforce(State(policy): State<Arc<Policy>>, mut request: Request, next: Next) -> Response {
    let Some(route) = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()) else {
        return next.run(request).await; // no route matched: the fallback answers 404
    };
    let method = if request.method() == Method::HEAD { Method::GET } else { request.method().clone() };
    let Some(rule) = policy.rules.get(&(method, route.clone())) else {
        let allowed = policy.methods_of(&route);
        if !allowed.is_empty() {
            // The path exists, the method does not: the caller's mistake, answered like any other, no log line.
            return method_not_allowed(&allowed);
        }
        tracing::error!(route, "route missing from the OpenAPI document; refused");
        return problem(ErrorKind::Internal, "this route declares no permission, so it is refused");
    };
    let permission = match &rule.access {
        Access::Public => None,
        Access::SignedIn => Some(None),
        Access::Requires(permission) => Some(Some(permission.as_str())),
    };
    let mut activity = None;
    if let Some(permission) = permission {
        // A console page's calls to the API after its first are not counted again: the page is one request of
        // the person's (a product page makes a dozen calls). Only the console sets this, in process.
        let counted = request.extensions().get::<ConsolePage>().is_some_and(ConsolePage::counted_before);
        match policy.authorize(request.headers(), permission, counted).await {
            Ok(principal) => {
                // Writes of signed-in callers go to the activity log (sign-in is a security event of the auth log).
                if !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
                    activity = Some(activity_of(&request, &route, rule, &principal));
                }
                request.extensions_mut().insert(principal);
            }
            Err(response) => return response,
        }
    }
    // `%00` has no letters: no case to fold.
    if request.uri().path().contains("%00") {
        let nul = InputError { field: "path".into(), reason: "contains a NUL character".into(), line: 1, column: 1 };
        return ApiError::from(nul).into_response();
    }
    let limit = if rule.upload { policy.upload_timeout } else { policy.request_timeout };
    let response = match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => problem(ErrorKind::Unavailable, format!("the request took longer than {} s", limit.as_secs())),
    };
    if let Some(mut activity) = activity {
        activity.status_code = Some(i32::from(response.status().as_u16()));
        // A created entity's id is in `Location` when the path did not name one.
        if activity.entity_id.is_none() {
            activity.entity_id = response
                .headers()
                .get(header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| l.rsplit('/').next())
                .and_then(|id| Uuid::parse_str(id).ok());
        }
        policy.sdk.activity().record(activity);
    }
    response
}

/// 405 naming the methods the route has (`Allow`, RFC 9110 §15.5.6).
pub(crate) fn method_not_allowed(allowed: &[&str]) -> Response {
    let mut response = crate::error::method_not_allowed(format!("this route takes {}", allowed.join(", ")));
    if let Ok(value) = HeaderValue::from_str(&allowed.join(", ")) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

/// The activity-log entry of a write (status and created id filled in from the response).
fn activity_of(request: &Request, route: &str, rule: &Rule, caller: &Principal) -> UserActivity {
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let mut activity = UserActivity::new(rule.action.clone());
    activity.user_id = Some(caller.user_id);
    activity.api_key_id = caller.api_key_id;
    activity.method = Some(request.method().to_string());
    activity.route = Some(route.to_string());
    activity.entity_type = rule.entity.clone();
    activity.entity_id = request.uri().path().split('/').find_map(|segment| Uuid::parse_str(segment).ok());
    activity.ip = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip().to_string());
    activity.user_agent = header("user-agent").map(|agent| agent.chars().take(512).collect());
    activity.request_id = header(crate::REQUEST_ID.as_str());
    activity
}

/// The access an operation declares: `[{}]` (alone or among others) is public; otherwise exactly one
/// requirement `{"bearer": ["<permission>"]}` naming a known permission.
fn access_of(operation: &serde_json::Value) -> Result<Access, String> {
    let requirements = operation.get("security").and_then(|s| s.as_array()).ok_or(
        "declares no security: add `security((\"bearer\" = [\"<permission>\"]))`, or `security(())` if public",
    )?;
    if requirements.iter().any(|r| r.as_object().is_some_and(|o| o.is_empty())) {
        return Ok(Access::Public);
    }
    let [requirement] = requirements.as_slice() else { return Err("must declare exactly one permission".into()) };
    let scopes = requirement.get(BEARER).and_then(|s| s.as_array()).ok_or("must use the `bearer` scheme")?;
    if scopes.is_empty() {
        return Ok(Access::SignedIn);
    }
    let [permission] = scopes.as_slice() else { return Err("must declare exactly one permission".into()) };
    let permission = permission.as_str().unwrap_or_default();
    if !PERMISSIONS.iter().any(|(known, _)| *known == permission) {
        return Err(format!("`{permission}` is not a permission"));
    }
    Ok(Access::Requires(permission.to_string()))
}

/// The credential of `Authorization: Bearer <credential>` (scheme case-insensitive); for a WebSocket upgrade, whose
/// browser API cannot set headers, also `Sec-WebSocket-Protocol: bearer, <credential>`.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let (scheme, credential) = value.to_str().ok()?.split_once(' ')?;
        let credential = credential.trim();
        return (scheme.eq_ignore_ascii_case("bearer") && !credential.is_empty()).then_some(credential);
    }
    let upgrade = headers.get(header::UPGRADE)?.to_str().ok()?;
    if !upgrade.eq_ignore_ascii_case("websocket") {
        return None;
    }
    let mut protocols = headers.get(header::SEC_WEBSOCKET_PROTOCOL)?.to_str().ok()?.split(',').map(str::trim);
    match (protocols.next(), protocols.next()) {
        (Some("bearer"), Some(credential)) if !credential.is_empty() => Some(credential),
        _ => None,
    }
}

/// Adds `WWW-Authenticate: Bearer` to a 401 (RFC 6750).
fn challenge(mut response: Response) -> Response {
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn declared_security_becomes_access() {
        assert_eq!(access_of(&json!({"security": [{}]})), Ok(Access::Public));
        assert_eq!(access_of(&json!({"security": [{"bearer": []}]})), Ok(Access::SignedIn));
        let read = json!({"security": [{"bearer": ["catalog:read"]}]});
        assert_eq!(access_of(&read), Ok(Access::Requires("catalog:read".into())));
        assert!(access_of(&json!({})).unwrap_err().contains("declares no security"));
        assert!(access_of(&json!({"security": [{"bearer": ["catalog:steal"]}]})).unwrap_err().contains("not a"));
        let two = json!({"security": [{"bearer": ["catalog:read", "catalog:write"]}]});
        assert!(access_of(&two).unwrap_err().contains("exactly one"));
    }

    #[test]
    fn bearer_credentials_are_read_strictly() {
        let headers = |value: &str| {
            let mut map = HeaderMap::new();
            map.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
            map
        };
        assert_eq!(bearer(&headers("Bearer abc")), Some("abc"));
        assert_eq!(bearer(&headers("bearer  abc ")), Some("abc"));
        assert_eq!(bearer(&headers("Basic abc")), None);
        assert_eq!(bearer(&headers("Bearer ")), None);
        assert_eq!(bearer(&HeaderMap::new()), None);
        let mut socket = HeaderMap::new();
        socket.insert(header::SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static("bearer, pmk_ab.cd"));
        assert_eq!(bearer(&socket), None, "only on an upgrade");
        socket.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        assert_eq!(bearer(&socket), Some("pmk_ab.cd"));
    }
}
