//! The web console over HTTP, on SQLite and PostgreSQL: who gets in, what the session cookies are, and that what a
//! page shows of a refusal is the API's. The browser test (`productsmanager-cli/tests/console.rs`) drives the pages.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use productsmanager_core::both_backends;
use productsmanager_core::db::Backend;
use productsmanager_core::testing::TestDatabases;

mod common;
use common::{BinaryReply, Endpoint, TestServer, request_bytes};

const PASSWORD: &str = "console password 1";

/// A form post from the console's own origin, with `cookies`.
async fn post_form(addr: Endpoint, path: &str, body: &str, cookies: &str) -> BinaryReply {
    let origin = format!("http://{}", addr.socket);
    let headers = format!(
        "Origin: {origin}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n{cookies}",
        body.len()
    );
    request_bytes(addr.anonymous(), "POST", path, &headers, body.as_bytes()).await
}

async fn page(addr: Endpoint, path: &str, headers: &str) -> BinaryReply {
    request_bytes(addr.anonymous(), "GET", path, headers, b"").await
}

fn set_cookies(reply: &BinaryReply) -> Vec<String> {
    reply.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie")).map(|(_, v)| v.clone()).collect()
}

/// The `Cookie:` line a browser would send back after `reply` (only the cookies it set with a value).
fn cookie_line(reply: &BinaryReply) -> String {
    let pairs: Vec<String> = set_cookies(reply)
        .iter()
        .filter_map(|c| c.split(';').next().map(str::to_string))
        .filter(|pair| !pair.ends_with('='))
        .collect();
    format!("Cookie: {}\r\n", pairs.join("; "))
}

fn text(reply: &BinaryReply) -> String {
    String::from_utf8_lossy(&reply.body).into_owned()
}

/// A user with `role` and the tests' password.
async fn add_user(sdk: &productsmanager_core::Sdk, email: &str, role: &str) {
    let user = productsmanager_core::auth::NewUser {
        email: email.into(),
        display_name: None,
        password: PASSWORD.into(),
        roles: vec![role.into()],
    };
    sdk.auth().create_user(user).await.unwrap();
}

async fn sign_in(addr: Endpoint, email: &str) -> BinaryReply {
    let body = format!(
        "email={}&password={}&next=%2Fconsole%2Fimports",
        email.replace('@', "%40"),
        PASSWORD.replace(' ', "+")
    );
    post_form(addr, "/console/login", &body, "").await
}

async fn console_sessions_and_refusals(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "console_sessions").await else { return };
    let sdk = env.sdk().await;
    for (email, role) in [("vera@example.com", "viewer"), ("ivan@example.com", "importer")] {
        add_user(&sdk, email, role).await;
    }
    let server = TestServer::start(sdk.clone()).await;
    let addr = server.addr;

    // Nobody signed in: to the sign-in page, then back; an htmx fragment is told to load the whole page.
    let anonymous = page(addr, "/console/products?q=mug", "").await;
    assert_eq!(anonymous.status, 303);
    assert_eq!(anonymous.header("location"), Some("/console/login?next=%2Fconsole%2Fproducts%3Fq%3Dmug"));
    let fragment = page(addr, "/console/imports/x/progress", "HX-Request: true\r\n").await;
    assert_eq!((fragment.status, fragment.header("hx-redirect").is_some()), (200, true));
    assert_eq!(page(addr, "/", "").await.header("location"), Some("/console"));

    // The script and the stylesheet, under this release's path, cached for good; another release's path is 404.
    let version = env!("CARGO_PKG_VERSION");
    let script = page(addr, &format!("/console/assets/{version}/htmx.min.js"), "").await;
    assert_eq!(script.status, 200);
    assert_eq!(script.header("content-type"), Some("text/javascript; charset=utf-8"));
    assert!(script.header("cache-control").unwrap().contains("immutable"));
    assert_eq!(page(addr, "/console/assets/0.0.0-old/htmx.min.js", "").await.status, 404);

    // A wrong password: the API's refusal on the form, no cookie.
    let wrong = post_form(addr, "/console/login", "email=vera%40example.com&password=nope", "").await;
    assert_eq!(wrong.status, 401);
    assert!(text(&wrong).contains("class=\"problem\""), "{}", text(&wrong));
    assert!(set_cookies(&wrong).is_empty());

    // Signed in: two HttpOnly, SameSite=Strict cookies for the console's paths only; back to the page asked for.
    let signed_in = sign_in(addr, "vera@example.com").await;
    assert_eq!((signed_in.status, signed_in.header("location")), (303, Some("/console/imports")));
    let cookies = set_cookies(&signed_in);
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    for cookie in &cookies {
        for part in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
            assert!(cookie.contains(part), "{cookie} lacks {part}");
        }
    }
    let session = cookie_line(&signed_in);

    // A viewer may read imports but not run them: the page shows the list, and the refusal of an upload is the
    // API's 403, naming the permission.
    let imports = page(addr, "/console/imports", &session).await;
    assert_eq!(imports.status, 200, "{}", text(&imports));
    let supplier = post_form(addr, "/console/suppliers", "code=acme&name=Acme&default_currency=EUR", &session).await;
    assert_eq!(supplier.status, 403, "{}", text(&supplier));
    assert!(text(&supplier).contains("catalog:write"), "{}", text(&supplier));

    // A form posted from another site is refused before anything runs.
    let forged = format!(
        "Origin: http://evil.example\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 0\r\n{session}"
    );
    assert_eq!(request_bytes(addr.anonymous(), "POST", "/console/suppliers", &forged, b"").await.status, 403);

    // The access cookie gone (expired) but the refresh cookie there: a new pair, and the page.
    let refresh = session.trim_end().trim_start_matches("Cookie: ").split("; ").find(|c| c.starts_with("pm_refresh="));
    let refresh_only = format!("Cookie: {}\r\n", refresh.unwrap());
    // Two requests at once with that cookie (two tabs): one refresh, the same new pair for both, and the sign-in
    // lives on (a refresh token spent twice would have ended it).
    let (refreshed, twin) = tokio::join!(page(addr, "/console", &refresh_only), page(addr, "/console", &refresh_only));
    assert_eq!((refreshed.status, twin.status), (200, 200), "{}", text(&refreshed));
    assert_eq!(set_cookies(&refreshed).len(), 2, "the tokens are renewed");
    assert_eq!(cookie_line(&refreshed), cookie_line(&twin));

    // Signing out revokes the sign-in at the API: the old access token no longer opens anything.
    let renewed = cookie_line(&refreshed);
    let access = renewed.split("pm_access=").nth(1).unwrap().split(';').next().unwrap().trim().to_string();
    let me = request_bytes(addr.with(&access), "GET", "/api/v1/me", "", b"").await;
    assert_eq!(me.status, 200);
    let signed_out = post_form(addr, "/console/logout", "", &renewed).await;
    assert_eq!((signed_out.status, signed_out.header("location")), (303, Some("/console/login")));
    assert!(set_cookies(&signed_out).iter().all(|c| c.contains("Max-Age=0")), "{:?}", set_cookies(&signed_out));
    let me = request_bytes(addr.with(&access), "GET", "/api/v1/me", "", b"").await;
    assert_eq!(me.status, 401);
    // The revoked cookies still sent (another tab): the API's 401 sends the page, or an htmx fragment, to sign-in.
    let stale = page(addr, "/console/imports", &renewed).await;
    assert_eq!((stale.status, stale.header("location")), (303, Some("/console/login?next=%2Fconsole%2Fimports")));
    assert!(set_cookies(&stale).iter().all(|c| c.contains("Max-Age=0")), "{:?}", set_cookies(&stale));
    let fragment_path = format!("/console/imports/{}/progress", uuid::Uuid::nil());
    let stale = page(addr, &fragment_path, &format!("HX-Request: true\r\n{renewed}")).await;
    assert_eq!((stale.status, stale.header("hx-redirect").is_some()), (200, true));

    // Behind a TLS proxy (X-Forwarded-Proto: https) the cookies are Secure.
    let body = format!("email=vera%40example.com&password={}", PASSWORD.replace(' ', "+"));
    let forwarded = format!("X-Forwarded-Proto: https\r\nOrigin: http://{}\r\n", addr.socket);
    let headers =
        format!("{forwarded}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n", body.len());
    let secure = request_bytes(addr.anonymous(), "POST", "/console/login", &headers, body.as_bytes()).await;
    assert!(set_cookies(&secure).iter().all(|c| c.contains("Secure")), "{:?}", set_cookies(&secure));

    // An importer may run imports but not read the analytics: the dashboard still renders, with the API's reason
    // where the catalog figures would be.
    let importer = cookie_line(&sign_in(addr, "ivan@example.com").await);
    let dashboard = page(addr, "/console", &importer).await;
    assert_eq!(dashboard.status, 200);
    assert!(text(&dashboard).contains("analytics:read"), "{}", text(&dashboard));
    server.stop().await.unwrap();
    sdk.close().await;
}

/// Code2ASIN from the console against the local SP-API fake: a job started from the form, its match held for review
/// listed, accepted from the page, and the ASIN written to the product.
async fn console_code2asin_review(backend: Backend) {
    use productsmanager_fakes::sp_api::{Credentials, FakeItem, FakeSpApi};
    const LID: &str = "0036000291452";
    let Some(env) = TestDatabases::named(backend, "console_code2asin").await else { return };
    let sdk = env.sdk().await;
    add_user(&sdk, "ada@example.com", "admin").await;
    let server = TestServer::start(sdk.clone()).await;
    let addr = server.addr;
    let credentials = Credentials { client_id: "c".into(), client_secret: "s".into(), refresh_token: "Atzr|r".into() };
    let item = |asin: &str, title: &str| FakeItem {
        asin: asin.into(),
        gtin14: format!("{LID:0>14}"),
        brand: "Acme".into(),
        title: title.into(),
        sales_rank: None,
    };
    let fake =
        FakeSpApi::start(credentials.clone(), vec![item("B0LID00001", "Lid"), item("B0LID00002", "Lid, 2 pack")])
            .await
            .unwrap();
    let config = serde_json::json!({
        "name": "FR", "marketplace": "FR", "client_id": credentials.client_id,
        "client_secret": credentials.client_secret, "refresh_token": credentials.refresh_token,
        "endpoint": format!("{}/", fake.base_url), "token_endpoint": format!("{}/auth/o2/token", fake.base_url),
    });
    assert_eq!(
        common::request(addr, "POST", "/api/v1/code2asin/configs", "", Some(&config.to_string())).await.status,
        201
    );
    let product = serde_json::json!({"sku": "LID-1", "gtin": LID, "title": "Lid"}).to_string();
    assert_eq!(common::request(addr, "POST", "/api/v1/products", "", Some(&product)).await.status, 201);

    let session = cookie_line(&sign_in(addr, "ada@example.com").await);
    let started = post_form(addr, "/console/code2asin/jobs", &format!("codes={LID}&marketplace=FR"), &session).await;
    assert_eq!((started.status, started.header("location")), (303, Some("/console/code2asin")));
    let job = sdk.code2asin().jobs(None, 1, None).await.unwrap().items[0].id;
    sdk.code2asin().run_now(job, |_| {}).await.unwrap();

    let page_text = text(&page(addr, "/console/code2asin", &session).await);
    assert!(page_text.contains("id=\"review-table\""), "{page_text}");
    let pending = sdk
        .code2asin()
        .results(Some(productsmanager_core::code2asin::ReviewState::Pending), None, 10, None)
        .await
        .unwrap();
    let result = &pending.items[0];
    assert!(page_text.contains(result.asin.as_deref().unwrap()), "{page_text}");
    let accepted = post_form(addr, &format!("/console/code2asin/results/{}/accept", result.id), "", &session).await;
    assert_eq!(accepted.status, 303, "{}", text(&accepted));
    assert!(text(&page(addr, "/console/code2asin", &session).await).contains("Nothing to review"));
    assert_eq!(sdk.products().find(LID).await.unwrap().asin.map(|a| a.to_string()), result.asin.clone());
    server.stop().await.unwrap();
    sdk.close().await;
}

/// A platform run from the console against the local WooCommerce fake: queued from the exports page, run by a
/// worker, and its page listing what became of each product.
async fn console_platform_run(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "console_platform_run").await else { return };
    let sdk = env.sdk().await;
    add_user(&sdk, "pia@example.com", "admin").await;
    let server = TestServer::start(sdk.clone()).await;
    let addr = server.addr;
    let shop = productsmanager_fakes::woocommerce::FakeWooCommerce::start("ck_c", "cs_c").await.unwrap();
    let product = serde_json::json!({"sku": "MUG-1", "gtin": "4006381333931", "title": "Mug", "status": "active"});
    let created = common::request(addr, "POST", "/api/v1/products", "", Some(&product.to_string())).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let price = serde_json::json!({"product_id": created.json()["id"], "price_type": "retail",
        "amount": {"amount_minor": 990, "currency": "EUR"}});
    assert!(common::request(addr, "POST", "/api/v1/prices", "", Some(&price.to_string())).await.status < 300);
    let platform = serde_json::json!({"name": "shop", "platform": "woocommerce", "endpoint": shop.base_url,
        "credentials": {"key": "ck_c", "secret": "cs_c"}});
    let added = common::request(addr, "POST", "/api/v1/exports/platforms", "", Some(&platform.to_string())).await;
    assert_eq!(added.status, 201, "{}", added.body);
    let platform_id = added.json()["id"].as_str().unwrap().to_string();

    let session = cookie_line(&sign_in(addr, "pia@example.com").await);
    let exports = text(&page(addr, "/console/exports", &session).await);
    assert!(exports.contains("id=\"platform-table\"") && exports.contains(&shop.base_url), "{exports}");
    let queued =
        post_form(addr, &format!("/console/exports/platforms/{platform_id}/runs"), "mode=full", &session).await;
    assert_eq!(queued.status, 303, "{}", text(&queued));
    let run_page = queued.header("location").unwrap().to_string();
    let workers = sdk.job_runner("console-exports", &["exports".to_string()]).unwrap().start();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let shown = loop {
        let shown = text(&page(addr, &run_page, &session).await);
        if shown.contains("id=\"items\"") || std::time::Instant::now() > deadline {
            break shown;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    workers.shutdown(std::time::Duration::from_secs(5)).await;
    assert!(shown.contains("badge succeeded"), "{shown}");
    let remote = shop.by_sku("MUG-1").unwrap()["id"].to_string();
    assert!(shown.contains("badge created") && shown.contains(&remote), "{shown}");
    server.stop().await.unwrap();
    sdk.close().await;
}

both_backends!(console_sessions_and_refusals, console_code2asin_review, console_platform_run);

/// The caller's rate limit counts a console page once, not each of the API calls that render it (a product page
/// makes about ten): a person reading pages is not refused at their second page, and the limit still holds per page.
#[tokio::test]
async fn a_console_page_counts_once_against_the_rate_limit() {
    let Some(mut env) = TestDatabases::named(Backend::Sqlite, "console_rate_limit").await else { return };
    env.config_mut().http.rate_limit_per_second = 1;
    env.config_mut().http.rate_limit_burst = 3;
    let sdk = env.sdk().await;
    add_user(&sdk, "vera@example.com", "viewer").await;
    let product = productsmanager_core::catalog::NewProduct {
        gtin: "4006381333931".parse().ok(),
        title: "Clay pot".into(),
        ..Default::default()
    };
    let product = sdk.products().create(product).await.unwrap();
    let server = TestServer::start(sdk.clone()).await;
    let session = cookie_line(&sign_in(server.addr, "vera@example.com").await);
    let path = format!("/console/products/{}", product.id);
    let shown = page(server.addr, &path, &format!("Cookie: {session}\r\n")).await;
    assert_eq!(shown.status, 200);
    let body = text(&shown);
    assert!(body.contains("Clay pot") && !body.contains("too many requests"), "{body}");
    // Page after page at once: the burst runs out, and the page says so.
    let mut refused = false;
    for _ in 0..5 {
        let body = text(&page(server.addr, &path, &format!("Cookie: {session}\r\n")).await);
        refused |= body.contains("too many requests");
    }
    assert!(refused, "five pages in a burst of three");
    server.stop().await.unwrap();
    sdk.close().await;
}
