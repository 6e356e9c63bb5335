//! The web console at `/console`: server-rendered pages for catalog managers, with htmx (vendored from its npm
//! package, `assets/`) for the parts that update in place. It is a client of the API and nothing more: every page
//! asks the API router in-process with the signed-in user's token ([`client::Api`]) and renders the JSON it gets,
//! so permissions, rate limits, validation messages and the activity log are the API's. No business logic here.
//!
//! These routes are not API operations and are not in the OpenAPI document; what they may do is what the API lets
//! their user do.

mod admin;
mod client;
mod code2asin;
mod dashboard;
mod exports;
mod imports;
mod layout;
mod media;
mod merges;
mod notifications;
mod products;
mod session;

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

/// What the console's handlers share.
#[derive(Debug, Clone)]
pub(crate) struct Console {
    /// The API, with its access policy, as a service to call in-process.
    api: Router,
    /// How long the refresh token's cookie lives: as long as the token (`auth.refresh_token_ttl_secs`).
    refresh_ttl_secs: u64,
    /// Refreshes made in the last seconds, by the refresh token used (see `session::renew`).
    renewals: std::sync::Arc<tokio::sync::Mutex<session::Renewals>>,
    /// Whether session cookies carry `Secure`: always, unless `http.insecure_cookies` says the console is served
    /// over plain HTTP on purpose.
    secure_cookies: bool,
}

/// The console's routes over `api` (the API router with its policy).
pub(crate) fn routes(api: Router, refresh_ttl_secs: u64, insecure_cookies: bool) -> Router {
    let console = Console { api, refresh_ttl_secs, renewals: Default::default(), secure_cookies: !insecure_cookies };
    let signed_in = Router::new()
        .route("/console", get(dashboard::page))
        .route("/console/products", get(products::list))
        .route("/console/products/duplicates", get(merges::page))
        .route("/console/products/duplicates/merge", post(merges::merge))
        .route("/console/merges/{id}/undo", post(merges::undo))
        .route("/console/products/{id}", get(products::show).post(products::edit))
        .route("/console/products/{id}/prices", post(products::set_price))
        .route("/console/products/{id}/stock", post(products::set_stock))
        .route("/console/products/{id}/provenance", post(products::set_field_rule))
        .route("/console/products/{id}/categories", post(products::add_category))
        .route("/console/products/{id}/categories/{category}/remove", post(products::remove_category))
        .route("/console/products/{id}/images", post(media::upload))
        .route("/console/products/{id}/images/{image}/move", post(media::move_image))
        .route("/console/products/{id}/images/{image}/main", post(media::make_main))
        .route("/console/products/{id}/images/{image}/delete", post(media::delete))
        .route("/console/images/{id}", get(media::content))
        .route("/console/imports", get(imports::list).post(imports::upload))
        .route("/console/suppliers", post(imports::add_supplier))
        .route("/console/suppliers/{id}/rules", post(imports::set_rules))
        .route("/console/import-sources", post(imports::add_source))
        .route("/console/mapping-templates", post(imports::add_template))
        .route("/console/imports/{id}", get(imports::show))
        .route("/console/imports/{id}/progress", get(imports::progress))
        .route("/console/imports/{id}/errors.csv", get(imports::errors_csv))
        .route("/console/exports", get(exports::list))
        .route("/console/exports/feeds", post(exports::feed))
        .route("/console/exports/platforms/{id}/runs", post(exports::run))
        .route("/console/exports/{id}", get(exports::show))
        .route("/console/exports/{id}/progress", get(exports::progress))
        .route("/console/exports/{id}/file", get(exports::file))
        .route("/console/code2asin", get(code2asin::page))
        .route("/console/code2asin/jobs", post(code2asin::start))
        .route("/console/code2asin/results/{id}/{action}", post(code2asin::review))
        .route("/console/notifications", get(notifications::list))
        .route("/console/notifications/count", get(notifications::count))
        .route("/console/notifications/read-all", post(notifications::read_all))
        .route("/console/notifications/{id}/read", post(notifications::read))
        .route("/console/ws", get(notifications::socket))
        .route("/console/admin", get(admin::page))
        .route("/console/admin/users", post(admin::add_user))
        .route("/console/admin/users/{id}/active", post(admin::set_active))
        .route("/console/admin/api-keys", post(admin::add_key))
        .route("/console/admin/roles", post(admin::add_role))
        .route("/console/admin/api-keys/{id}/revoke", post(admin::revoke_key))
        .route("/console/settings", get(admin::settings))
        .route("/console/settings/{key}", post(admin::set_setting))
        .route("/console/settings/{key}/reset", post(admin::reset_setting))
        .route_layer(axum::middleware::from_fn_with_state(console.clone(), session::require));
    Router::new()
        .route("/", get(|| async { Redirect::to("/console") }))
        .route("/console/login", get(session::sign_in_form).post(session::sign_in))
        .route("/console/logout", post(session::sign_out))
        .route("/console/assets/{version}/{name}", get(asset))
        .merge(signed_in)
        .layer(axum::middleware::from_fn(session::same_origin))
        .layer(axum::middleware::from_fn(session::security_headers))
        .with_state(console)
}

/// htmx, from the npm package `htmx.org` (the version `e2e/package.json` names; a test compares the two).
const HTMX: &str = include_str!("../../assets/htmx.min.js");
const STYLESHEET: &str = include_str!("../../assets/console.css");
const SCRIPT: &str = include_str!("../../assets/console.js");

/// `GET /console/assets/{version}/{name}`: the scripts and the stylesheet, cached for good (the version in the path
/// changes with each release).
async fn asset(Path((version, name)): Path<(String, String)>) -> Response {
    let (content_type, body) = match name.as_str() {
        "htmx.min.js" => ("text/javascript; charset=utf-8", HTMX),
        "console.css" => ("text/css; charset=utf-8", STYLESHEET),
        "console.js" => ("text/javascript; charset=utf-8", SCRIPT),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    if version != layout::ASSET_VERSION {
        return StatusCode::NOT_FOUND.into_response();
    }
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=31536000, immutable")], body)
        .into_response()
}

/// Whether the request is htmx's for a fragment. Restoring a page from history (back, forward) wants the whole
/// page, though htmx asks for it too.
fn is_htmx(headers: &axum::http::HeaderMap) -> bool {
    headers.get("hx-request").is_some_and(|v| v == "true")
        && headers.get("hx-history-restore-request").is_none_or(|v| v != "true")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    /// The vendored htmx is the npm package's file, byte for byte: `e2e/package.json` names the version, and
    /// `scripts/test.sh` installs it (`npm ci`) before the tests.
    #[test]
    fn vendored_htmx_is_the_npm_package() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let installed = root.join("e2e/node_modules/htmx.org/dist/htmx.min.js");
        if !installed.is_file() {
            assert!(
                std::env::var("PM_TEST_REQUIRE_SERVICES").as_deref() != Ok("1"),
                "{} is missing: run `npm ci` in e2e/",
                installed.display()
            );
            eprintln!("NOT RUN: the vendored htmx check ({} is missing; `npm ci` in e2e/)", installed.display());
            return;
        }
        assert!(
            std::fs::read_to_string(installed).unwrap() == super::HTMX,
            "assets/htmx.min.js is not the npm package's"
        );
        let manifest: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(root.join("e2e/package.json")).unwrap()).unwrap();
        let pinned = manifest["dependencies"]["htmx.org"].as_str().unwrap();
        let package: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(root.join("e2e/node_modules/htmx.org/package.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(package["version"].as_str(), Some(pinned), "e2e/node_modules is not the pinned htmx");
    }
}
