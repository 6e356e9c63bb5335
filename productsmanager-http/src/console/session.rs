//! Signing in and out of the console. The API's token pair lives in two cookies (HttpOnly, SameSite=Strict, path
//! `/console`): scripts cannot read them and other sites cannot send them. When the access token's cookie has run
//! out, the refresh token gets a new pair before the page is served.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cookie::{Cookie, SameSite};
use maud::html;
use productsmanager_core::auth::TokenPair;
use serde::{Deserialize, Serialize};

use super::Console;
use super::client::Api;
use super::layout::{self, Failure};

const ACCESS: &str = "pm_access";
const REFRESH: &str = "pm_refresh";
/// Where the cookies are sent: the console's pages only (the API takes bearer tokens, never cookies).
const COOKIE_PATH: &str = "/console";
/// The access cookie ends this long before its token, so a page never starts with a token about to expire.
const ACCESS_MARGIN_SECS: u64 = 30;

/// The signed-in user's tokens, put on the request by [`require`].
#[derive(Debug, Clone)]
pub(crate) struct Session {
    access: String,
}

/// The API client of one console request: the caller's token when signed in.
#[derive(Debug)]
pub(crate) struct Client(pub(crate) Api);

impl FromRequestParts<Console> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, console: &Console) -> Result<Self, Self::Rejection> {
        let api = Api::new(console.api.clone(), parts);
        Ok(Client(match parts.extensions.get::<Session>() {
            Some(session) => api.with_token(&session.access),
            None => api,
        }))
    }
}

fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == name && !cookie.value().is_empty())
        .map(|cookie| cookie.value().to_string())
}

/// Whether the browser reached us over HTTPS through a proxy that says so.
fn over_https(headers: &HeaderMap) -> bool {
    headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// Whether the browser addressed this machine (`localhost`, `127.0.0.1`, `[::1]`), where browsers keep `Secure`
/// cookies over plain HTTP.
fn on_this_machine(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else { return false };
    // Without the port: `[::1]:8080` → `[::1]`, `localhost:8080` → `localhost`.
    let name = match host.starts_with('[') {
        true => host.split_inclusive(']').next().unwrap_or(host),
        false => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    productsmanager_core::net::names_this_machine(name)
}

fn set_cookie(name: &str, value: &str, max_age_secs: u64, secure: bool) -> Option<HeaderValue> {
    let cookie = Cookie::build((name, value))
        .path(COOKIE_PATH)
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .max_age(cookie::time::Duration::seconds(i64::try_from(max_age_secs).unwrap_or(i64::MAX)))
        .build();
    HeaderValue::from_str(&cookie.to_string()).ok()
}

fn remember(headers: &mut HeaderMap, tokens: &TokenPair, refresh_ttl_secs: u64, secure: bool) {
    let access_secs = tokens.expires_in.saturating_sub(ACCESS_MARGIN_SECS).max(1);
    for cookie in [
        set_cookie(ACCESS, &tokens.access_token, access_secs, secure),
        set_cookie(REFRESH, &tokens.refresh_token, refresh_ttl_secs, secure),
    ]
    .into_iter()
    .flatten()
    {
        headers.append(header::SET_COOKIE, cookie);
    }
}

fn forget(headers: &mut HeaderMap) {
    for cookie in [set_cookie(ACCESS, "", 0, false), set_cookie(REFRESH, "", 0, false)].into_iter().flatten() {
        headers.append(header::SET_COOKIE, cookie);
    }
}

/// Middleware of the pages that need a signed-in user: passes the [`Session`] on, refreshing the tokens when the
/// access cookie has run out; sends anyone else to the sign-in page, back to this page afterwards.
pub(crate) async fn require(State(console): State<Console>, mut request: Request, next: Next) -> Response {
    let headers = request.headers();
    let (access, refresh) = (cookie_value(headers, ACCESS), cookie_value(headers, REFRESH));
    let htmx = super::is_htmx(headers);
    // A fragment's own address is no page to come back to: the page it was asked from is.
    let back_to = match headers.get("hx-current-url").and_then(|v| v.to_str().ok()) {
        Some(url) if htmx => url.find("/console").map_or("/console", |at| &url[at..]).to_string(),
        _ => request.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default(),
    };
    let secure = console.secure_cookies;
    let Some(refresh) = refresh else { return layout::to_sign_in(&back_to, htmx) };
    let signed_out = |response: Response| {
        // The API refused the session (revoked, user deactivated): to the sign-in page, whatever the page was.
        if response.extensions().get::<layout::SignedOut>().is_none() {
            return response;
        }
        let mut response = layout::to_sign_in(&back_to, htmx);
        forget(response.headers_mut());
        response
    };
    if let Some(access) = access {
        request.extensions_mut().insert(Session { access });
        return signed_out(next.run(request).await);
    }
    let (parts, body) = request.into_parts();
    let api = Api::new(console.api.clone(), &parts);
    let Some(tokens) = renew(&console, &api, &refresh).await else {
        let mut response = layout::to_sign_in(&back_to, htmx);
        forget(response.headers_mut());
        return response;
    };
    let mut request = Request::from_parts(parts, body);
    request.extensions_mut().insert(Session { access: tokens.access_token.clone() });
    let mut response = signed_out(next.run(request).await);
    remember(response.headers_mut(), &tokens, console.refresh_ttl_secs, secure);
    response
}

/// How long a refresh's new pair is handed to other requests that come with the same spent refresh token.
const RENEWAL_REUSE: std::time::Duration = std::time::Duration::from_secs(30);

/// Recent refreshes: the refresh token spent → when, and the pair it got.
#[derive(Debug, Default)]
pub(crate) struct Renewals(std::collections::HashMap<String, (std::time::Instant, TokenPair)>);

/// A new token pair for `refresh`. Requests arriving together after the access cookie ran out (two tabs, a page and
/// its fragments) would each spend the same refresh token, and the API takes a second use as a stolen token and
/// ends the sign-in; so refreshes go one at a time, and a token refreshed moments ago gets the pair it got then.
async fn renew(console: &Console, api: &Api, refresh: &str) -> Option<TokenPair> {
    let mut renewals = console.renewals.lock().await;
    renewals.0.retain(|_, (at, _)| at.elapsed() < RENEWAL_REUSE);
    if let Some((_, tokens)) = renewals.0.get(refresh) {
        return Some(tokens.clone());
    }
    let body = RefreshToken { refresh_token: refresh };
    let tokens: TokenPair = api.send_json(Method::POST, "/api/v1/auth/refresh", &body).await.ok()?;
    renewals.0.insert(refresh.to_string(), (std::time::Instant::now(), tokens.clone()));
    Some(tokens)
}

/// Middleware of every console route: a form is taken only when the browser says it was posted from the console's
/// own site — `Sec-Fetch-Site: same-origin`, else an `Origin` (or, lacking one, a `Referer`) naming this host. A post
/// that says nothing is refused too (fail closed). The cookies are SameSite=Strict already; this also covers
/// browsers that do not honour it.
pub(crate) async fn same_origin(request: Request, next: Next) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD && !posted_from_here(request.headers()) {
        return (StatusCode::FORBIDDEN, "form posted from another site, or from nowhere the browser names")
            .into_response();
    }
    next.run(request).await
}

/// Whether the browser's own headers say the request comes from a page of this host.
fn posted_from_here(headers: &axum::http::HeaderMap) -> bool {
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return site == "same-origin";
    }
    let Some(host) = text(header::HOST) else { return false };
    let host_of = |url: &str| url.split_once("://").map(|(_, rest)| rest.split('/').next().unwrap_or("").to_string());
    match (text(header::ORIGIN), text(header::REFERER)) {
        (Some(origin), _) => host_of(origin).as_deref() == Some(host),
        (None, Some(referer)) => host_of(referer).as_deref() == Some(host),
        (None, None) => false,
    }
}

/// Middleware of every console route: what the browser may do with a console page — scripts and styles from the
/// console only (no inline script), never framed, types as declared, no address sent elsewhere, pages not stored.
pub(crate) async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut axum::http::HeaderMap, name: &'static str, value: &'static str| {
        headers.insert(name, axum::http::HeaderValue::from_static(value));
    };
    set(
        headers,
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; connect-src 'self'; \
         frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'",
    );
    set(headers, "x-frame-options", "DENY");
    set(headers, "x-content-type-options", "nosniff");
    set(headers, "referrer-policy", "same-origin");
    if !headers.contains_key(header::CACHE_CONTROL) {
        set(headers, "cache-control", "no-store");
    }
    response
}

#[derive(Debug, Serialize)]
struct RefreshToken<'a> {
    refresh_token: &'a str,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SignInQuery {
    #[serde(default)]
    next: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct SignInForm {
    email: String,
    password: String,
    #[serde(default, skip_serializing)]
    next: Option<String>,
}

/// Only a console page is a place to return to after signing in (never another site).
fn return_path(next: Option<&str>) -> &str {
    match next {
        Some(path) if path.starts_with("/console") && !path.starts_with("/console/login") => path,
        _ => "/console",
    }
}

fn sign_in_page(email: &str, next: Option<&str>, failure: Option<&Failure>) -> maud::Markup {
    layout::bare(
        "Sign in",
        html! {
            main.sign-in {
                h1 { "ProductsManager" }
                form method="post" action="/console/login" {
                    @if let Some(failure) = failure { (failure.banner()) }
                    input type="hidden" name="next" value=(return_path(next));
                    label for="email" { "E-mail" }
                    input #email type="email" name="email" value=(email) autocomplete="username" required autofocus;
                    label for="password" { "Password" }
                    input #password type="password" name="password" autocomplete="current-password" required;
                    button type="submit" { "Sign in" }
                }
            }
        },
    )
}

/// `GET /console/login`.
pub(crate) async fn sign_in_form(axum::extract::Query(query): axum::extract::Query<SignInQuery>) -> maud::Markup {
    sign_in_page("", query.next.as_deref(), None)
}

/// `POST /console/login`: the API's sign-in; its refusal (wrong password, locked out) shown on the form.
pub(crate) async fn sign_in(
    State(console): State<Console>,
    Client(api): Client,
    headers: HeaderMap,
    axum::Form(form): axum::Form<SignInForm>,
) -> Response {
    let secure = console.secure_cookies;
    if secure && !over_https(&headers) && !on_this_machine(&headers) {
        // The browser would drop the `Secure` cookies and come back here, signed in to nothing.
        let failure = Failure {
            status: StatusCode::FORBIDDEN,
            title: "Sign-in needs HTTPS".into(),
            detail: "This console is reached over plain HTTP, where browsers drop its secure session cookies. Serve \
                     it behind HTTPS (a proxy sending X-Forwarded-Proto: https), browse it on this machine, or set \
                     PM_HTTP_INSECURE_COOKIES=true on a trusted network."
                .into(),
            field: None,
        };
        return (failure.status, sign_in_page(&form.email, form.next.as_deref(), Some(&failure))).into_response();
    }
    match api.send_json::<TokenPair>(Method::POST, "/api/v1/auth/login", &form).await {
        Ok(tokens) => {
            let mut response = layout::see_other(return_path(form.next.as_deref()));
            remember(response.headers_mut(), &tokens, console.refresh_ttl_secs, secure);
            response
        }
        Err(failure) => {
            let status = failure.status;
            let failure = Failure::from(failure);
            (status, sign_in_page(&form.email, form.next.as_deref(), Some(&failure))).into_response()
        }
    }
}

/// `POST /console/logout`: the sign-in is revoked at the API (both tokens stop working) and the cookies cleared.
pub(crate) async fn sign_out(Client(api): Client, headers: HeaderMap) -> Response {
    if let Some(refresh) = cookie_value(&headers, REFRESH) {
        // Signing out of a session that is already gone is still signing out.
        let _ = api
            .call(Method::POST, "/api/v1/auth/logout", &RefreshToken { refresh_token: &refresh }, HeaderMap::new())
            .await;
    }
    let mut response = layout::see_other("/console/login");
    forget(response.headers_mut());
    response
}
