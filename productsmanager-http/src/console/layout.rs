//! The page shell (head, navigation, sign-out), the console's redirects and how an API refusal is shown.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use super::client::ApiFailure;

/// Part of the asset paths, so a new release's browser never keeps an old stylesheet or script.
pub(crate) const ASSET_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The sections of the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Dashboard,
    Products,
    Imports,
    Exports,
    Code2Asin,
    Admin,
    Settings,
}

impl Section {
    const ALL: [Section; 7] = [
        Section::Dashboard,
        Section::Products,
        Section::Imports,
        Section::Exports,
        Section::Code2Asin,
        Section::Admin,
        Section::Settings,
    ];

    fn label(self) -> &'static str {
        match self {
            Section::Dashboard => "Dashboard",
            Section::Products => "Products",
            Section::Imports => "Imports",
            Section::Exports => "Exports",
            Section::Code2Asin => "Code2ASIN",
            Section::Admin => "Users & keys",
            Section::Settings => "Settings",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Section::Dashboard => "/console",
            Section::Products => "/console/products",
            Section::Imports => "/console/imports",
            Section::Exports => "/console/exports",
            Section::Code2Asin => "/console/code2asin",
            Section::Admin => "/console/admin",
            Section::Settings => "/console/settings",
        }
    }
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · ProductsManager" }
            // No icon: without this line the browser asks for /favicon.ico on every page.
            link rel="icon" href="data:,";
            link rel="stylesheet" href={ "/console/assets/" (ASSET_VERSION) "/console.css" };
            script src={ "/console/assets/" (ASSET_VERSION) "/htmx.min.js" } defer {}
            script src={ "/console/assets/" (ASSET_VERSION) "/console.js" } defer {}
        }
    }
}

/// A page without navigation (sign-in).
pub(crate) fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body { (body) }
        }
    }
}

/// A page of the signed-in console: navigation with `active` marked, then `body`.
pub(crate) fn page(title: &str, active: Option<Section>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/console" { "ProductsManager" }
                    nav aria-label="Sections" {
                        @for section in Section::ALL {
                            @if Some(section) == active {
                                a href=(section.path()) aria-current="page" { (section.label()) }
                            } @else {
                                a href=(section.path()) { (section.label()) }
                            }
                        }
                    }
                    a.notifications href="/console/notifications" {
                        "Notifications "
                        span #notification-count.count hx-get="/console/notifications/count" hx-trigger="load"
                            hx-swap="outerHTML" data-count="0" hidden {}
                    }
                    form.sign-out method="post" action="/console/logout" {
                        button type="submit" { "Sign out" }
                    }
                }
                div #notification-live.toast role="status" aria-live="polite" hidden {}
                main #main { (body) }
            }
        }
    }
}

/// 303 to `path` (after a form was handled: reloading the page does not post it again).
pub(crate) fn see_other(path: &str) -> Response {
    let location = HeaderValue::from_str(path).unwrap_or(HeaderValue::from_static("/console"));
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

/// To the sign-in page, then back to `back_to`. An htmx request (a fragment) is told to load the whole page
/// instead: a redirect would be followed by its `fetch` and the sign-in form swapped into the fragment's place.
pub(crate) fn to_sign_in(back_to: &str, htmx: bool) -> Response {
    let target =
        format!("/console/login?next={}", form_urlencoded::byte_serialize(back_to.as_bytes()).collect::<String>());
    if htmx && let Ok(value) = HeaderValue::from_str(&target) {
        return (StatusCode::OK, [(axum::http::HeaderName::from_static("hx-redirect"), value)]).into_response();
    }
    see_other(&target)
}

/// An API refusal on its way to the page: its status, title, detail and the field at fault.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) status: StatusCode,
    pub(crate) title: String,
    pub(crate) detail: String,
    pub(crate) field: Option<String>,
}

impl From<ApiFailure> for Failure {
    fn from(failure: ApiFailure) -> Self {
        Failure {
            status: failure.status,
            title: failure.problem.title,
            detail: failure.problem.detail,
            field: failure.problem.field,
        }
    }
}

impl From<productsmanager_core::Error> for Failure {
    /// A refusal of the core's own checks made before calling the API (a price's amount in its currency).
    fn from(error: productsmanager_core::Error) -> Self {
        let status = crate::error::status_for(error.kind());
        Failure {
            status,
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            detail: error.to_string(),
            field: error.field().map(str::to_string),
        }
    }
}

impl Failure {
    /// A refusal of an input the console checks itself (a malformed id in the path).
    pub(crate) fn invalid(field: &str, detail: &str) -> Self {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        Failure {
            status,
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            detail: detail.to_string(),
            field: Some(field.to_string()),
        }
    }

    /// Whether the API refused a write because the record changed since it was read (409 on `version`, 412).
    pub(crate) fn is_stale_version(&self) -> bool {
        self.status == StatusCode::PRECONDITION_FAILED
            || (self.status == StatusCode::CONFLICT && self.field.as_deref() == Some("version"))
    }

    /// The refusal as a notice at the top of a form or page.
    pub(crate) fn banner(&self) -> Markup {
        html! {
            div.problem role="alert" {
                strong { (self.title) } " " (self.detail)
                @if let Some(field) = &self.field { " (" code { (field) } ")" }
            }
        }
    }

    /// The message for the input `name`, when the API named that field.
    pub(crate) fn about(&self, name: &str) -> Option<&str> {
        (self.field.as_deref() == Some(name)).then_some(self.detail.as_str())
    }
}

/// Marks a response as the API refusing the session itself (401): the session middleware turns it into the way to
/// the sign-in page (a redirect, or for an htmx fragment `HX-Redirect`), clearing the cookies.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SignedOut;

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        if self.status == StatusCode::UNAUTHORIZED {
            let mut response = to_sign_in("/console", false);
            response.extensions_mut().insert(SignedOut);
            return response;
        }
        let body = page(
            &self.title,
            None,
            html! {
                h1 { (self.title) }
                (self.banner())
                p { a href="/console" { "Back to the dashboard" } }
            },
        );
        (self.status, body).into_response()
    }
}

/// A job's progress: a bar (indeterminate while the total is unknown, full once finished) and "`done` of `total`
/// `unit`" beside it.
pub(crate) fn progress_bar(label: &str, done: u64, total: Option<u64>, finished: bool, unit: &str) -> Markup {
    html! {
        div.progress {
            @match (total, finished) {
                (_, true) => progress max="1" value="1" aria-label=(label) {},
                (Some(total), false) => progress max=(total.max(1)) value=(done) aria-label=(label) {},
                (None, false) => progress aria-label=(label) {},
            }
            span { (done) " " (unit) @if let Some(total) = total { " of " (total) } }
        }
    }
}

/// A text input with its label and, when the API refused that field, its message (announced to screen readers).
pub(crate) fn field(label: &str, name: &str, value: &str, kind: &str, failure: Option<&Failure>) -> Markup {
    let message = failure.and_then(|f| f.about(name));
    let error_id = format!("{name}-error");
    html! {
        div.field {
            label for=(name) { (label) }
            @if let Some(message) = message {
                input id=(name) name=(name) type=(kind) value=(value) aria-invalid="true" aria-describedby=(error_id);
                span.field-error id=(error_id) { (message) }
            } @else {
                input id=(name) name=(name) type=(kind) value=(value);
            }
        }
    }
}
