//! The attack suite: each hole an outside probe of the release server found (issue 27) is a case here, over a real
//! server on SQLite and PostgreSQL, so that a regression fails CI. Cases are named after the finding they close.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use productsmanager_core::Sdk;
use productsmanager_core::auth::{NewApiKey, NewUser};
use productsmanager_core::both_backends;
use productsmanager_core::catalog::NewSupplier;
use productsmanager_core::db::Backend;
use productsmanager_core::testing::TestDatabases;
use serde_json::json;

mod common;
use common::{Endpoint, TestServer, get, request};

/// An API key of a new user holding the built-in `role`, with every permission of the role.
async fn key_of_role(sdk: &Sdk, role: &str) -> String {
    let email = format!("{role}-{}@example.com", uuid::Uuid::new_v4().simple());
    let input =
        NewUser { email, display_name: None, password: "attack suite password".into(), roles: vec![role.into()] };
    let user = sdk.auth().create_user(input).await.unwrap();
    let scopes = sdk.auth().permissions_of(user.id).await.unwrap().into_iter().collect();
    let key = NewApiKey { user_id: user.id, name: format!("{role} key"), scopes, expires_at: None };
    sdk.auth().create_api_key(key, None).await.unwrap().secret
}

/// Runs the imports queue until the import at `job` (its API path) is as `done` says, within two minutes (a busy
/// machine is slow, not wrong); the import as the API shows it then.
async fn run_import(
    sdk: &Sdk,
    admin: Endpoint,
    job: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let workers = sdk.job_runner("attacks", &["imports".to_string()]).unwrap().start();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let reply = loop {
        let reply = get(admin, job, "").await.json();
        if done(&reply) {
            break reply;
        }
        assert!(std::time::Instant::now() < deadline, "the import never got there: {reply}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    workers.shutdown(std::time::Duration::from_secs(10)).await;
    reply
}

/// Finding 1 (critical): a folder import source could read and move any file the server can write. Now adding a
/// source takes `imports:sources` (admins), folder sources are off until `imports.folder_roots` names where they
/// may look, the product's own folders are never allowed, links are resolved first, and nothing a source took is
/// quoted back.
async fn folder_sources_are_confined(backend: Backend) {
    let Some(mut env) = TestDatabases::named(backend, "folder_sources_are_confined").await else { return };
    let drops = tempfile::tempdir().unwrap();
    env.config_mut().imports.folder_roots = vec![drops.path().to_path_buf()];
    let sdk = env.sdk().await;
    let supplier = sdk
        .suppliers()
        .create(NewSupplier { code: "ACME".into(), name: "Acme".into(), ..Default::default() })
        .await
        .unwrap();
    let server = TestServer::start(sdk.clone()).await;
    let admin = server.addr;
    let importer = admin.with(&key_of_role(&sdk, "importer").await);
    let manager = admin.with(&key_of_role(&sdk, "catalog_manager").await);
    let folder = |path: &std::path::Path| {
        json!({ "name": format!("drop {}", path.display()), "supplier_id": supplier.id, "source_kind": "folder",
                "source_settings": { "path": path } })
        .to_string()
    };
    let create = |who: Endpoint, body: String| async move {
        request(who, "POST", "/api/v1/import-configs", "", Some(&body)).await
    };

    // The probe's own moves: the data folder, the system's configuration folder, as an importer and as an admin.
    let data = env.folder().to_path_buf();
    for who in [importer, manager] {
        for path in [data.as_path(), std::path::Path::new("/etc"), drops.path()] {
            let reply = create(who, folder(path)).await;
            assert_eq!(reply.status, 403, "{}", reply.body);
            assert!(reply.body.contains("imports:sources"), "{}", reply.body);
        }
    }
    for path in [data.as_path(), &data.join("objects"), std::path::Path::new("/etc")] {
        let reply = create(admin, folder(path)).await;
        assert_eq!(
            (reply.status, reply.json()["field"].as_str()),
            (422, Some("source_settings.path")),
            "{}",
            reply.body
        );
    }
    // A link to the data folder placed inside an allowed root is followed, then refused.
    let link = drops.path().join("innocent");
    std::os::unix::fs::symlink(&data, &link).unwrap();
    let reply = create(admin, folder(&link)).await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    let listed = get(admin, "/api/v1/import-configs", "").await;
    assert_eq!(listed.json()["items"].as_array().map(Vec::len), Some(0), "{}", listed.body);
    for file in std::fs::read_dir(&data).unwrap() {
        let name = file.unwrap().file_name().to_string_lossy().into_owned();
        assert!(name != "processed" && name != "failed", "nothing was moved in the data folder");
    }

    // Inside the root, as an admin: taken, and its text never comes back in the job's error.
    let drop = drops.path().join("acme");
    std::fs::create_dir_all(&drop).unwrap();
    let reply = create(admin, folder(&drop)).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    std::fs::write(drop.join("shadow.csv"), "root:$6$saltsalt$hash:19000:0:99999:7:::\nx\n").unwrap();
    let taken =
        productsmanager_core::imports::sources::poll_now(&sdk.imports(), &[], std::time::Duration::from_millis(50))
            .await
            .unwrap();
    assert_eq!(taken.len(), 1);
    let job = format!("/api/v1/imports/{}", taken[0].job.id);
    let failed = run_import(&sdk, admin, &job, |reply| reply["last_error"].is_string()).await.to_string();
    assert!(failed.contains("unexpected column"), "{failed}");
    let jobs = get(admin, "/api/v1/imports", "").await;
    for body in [&failed, &jobs.body] {
        assert!(!body.contains("root:") && !body.contains("saltsalt"), "{body}");
    }

    server.stop().await.unwrap();
    sdk.close().await;
}

both_backends!(folder_sources_are_confined);

/// A random token of `len` upper-case letters: a method no route has.
fn random_token(len: usize) -> String {
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for byte in uuid::Uuid::new_v4().as_bytes() {
            if out.len() < len {
                out.push(char::from(b'A' + byte % 26));
            }
        }
    }
    out
}

/// The label values of every series of `/metrics` for `label` (`method`, `route`).
fn label_values(metrics: &str, label: &str) -> std::collections::BTreeSet<String> {
    let needle = format!("{label}=\"");
    metrics
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split_once(&needle).and_then(|(_, rest)| rest.split_once('"')).map(|(v, _)| v.into()))
        .collect()
}

/// The distinct names of HTTP latencies stored in the analytics database.
async fn http_timing_names(sdk: &Sdk) -> Vec<String> {
    use productsmanager_core::db::{Database, DbPool};
    sdk.analytics_events().flush().await;
    let sql = "select distinct name from performance_buckets where kind = 'http' order by name";
    match sdk.pool(Database::Analytics) {
        DbPool::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await.unwrap(),
        DbPool::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await.unwrap(),
    }
}

/// Findings 2 and 3: anyone, unauthenticated, could grow `/metrics` and the analytics database without bound with
/// made-up methods, and a method a route does not declare answered 500. Now such a method is answered 405 before
/// anything is recorded, a declared path with an undeclared method 405 with `Allow`, and every label comes from a
/// closed set (the standard methods, the router's templates, `unmatched`).
async fn made_up_methods_and_paths_grow_nothing(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "made_up_methods_and_paths_grow_nothing").await else { return };
    let sdk = env.sdk().await;
    let server = TestServer::start(sdk.clone()).await;
    let anonymous = server.addr.anonymous();
    let document = get(anonymous, "/api/openapi.json", "").await.json();
    let templates: Vec<String> = document["paths"].as_object().unwrap().keys().cloned().collect();
    let before = get(anonymous, "/metrics", "").await.body;
    let names_before = http_timing_names(&sdk).await;

    let mut methods = Vec::new();
    for i in 0..1_000 {
        let method = random_token(if i % 10 == 0 { 8_192 } else { 1 + i % 40 });
        let path = match i % 4 {
            0 => format!("/{}", random_token(30).to_lowercase()),
            1 => format!("/api/v1/products/{}", uuid::Uuid::new_v4()),
            2 => "/health".to_string(),
            _ => format!("/api/v1/{}/{}", random_token(8).to_lowercase(), random_token(8).to_lowercase()),
        };
        let reply = request(anonymous, &method, &path, "", None).await;
        assert_eq!(reply.status, 405, "{method:.20} {path}: {}", reply.body);
        methods.push(method);
    }
    // Declared paths with standard methods they do not declare: 405 naming the ones they have, never 500.
    for (path, method, allowed) in [
        ("/health", "DELETE", "GET"),
        ("/metrics", "POST", "GET"),
        ("/api/v1/import-configs", "PATCH", "GET, POST"),
        ("/api/v1/auth/login", "GET", "POST"),
    ] {
        let reply = request(anonymous, method, path, "", None).await;
        assert_eq!((reply.status, reply.header("allow")), (405, Some(allowed)), "{method} {path}: {}", reply.body);
    }
    for i in 0..200 {
        let reply = get(anonymous, &format!("/{}/{i}", random_token(12).to_lowercase()), "").await;
        assert_eq!(reply.status, 404);
    }

    let after = get(anonymous, "/metrics", "").await.body;
    assert!(after.len() < before.len() + 64 * 1024, "/metrics grew from {} to {} bytes", before.len(), after.len());
    let standard = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
    for method in label_values(&after, "method") {
        assert!(standard.contains(&method.as_str()), "method label {method:.40}");
    }
    for route in label_values(&after, "route") {
        let known = route == "unmatched" || templates.contains(&route) || route.starts_with("/console");
        assert!(known, "route label {route:.60} is not a template of the router");
    }
    let names_after = http_timing_names(&sdk).await;
    for name in names_after.iter().filter(|name| !names_before.contains(name)) {
        let (method, route) = name.split_once(' ').unwrap();
        assert!(standard.contains(&method), "analytics name {name:.40}");
        assert!(route == "unmatched" || templates.iter().any(|t| t == route), "analytics name {name:.60}");
    }
    assert!(names_after.len() <= names_before.len() + 8, "{names_before:?} -> {names_after:?}");

    server.stop().await.unwrap();
    sdk.close().await;
}

both_backends!(made_up_methods_and_paths_grow_nothing);

/// Finding 5: a NUL byte in a supplier file was stored by SQLite and failed the whole import on PostgreSQL (0 of 19
/// good rows, the job looping back to the queue). Control characters are now refused where text comes in — the
/// row of a file, naming line and column, and the fields of the API — the same on both backends.
async fn control_characters_are_refused_alike(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "control_characters_are_refused_alike").await else { return };
    let sdk = env.sdk().await;
    let input = NewSupplier {
        code: "NUL".into(),
        name: "Nul".into(),
        default_currency: Some("EUR".into()),
        ..Default::default()
    };
    sdk.suppliers().create(input).await.unwrap();
    let server = TestServer::start(sdk.clone()).await;
    let admin = server.addr;
    let mut csv = String::from("sku,title,price\n");
    for n in 1..=20 {
        let title = if n == 7 { "Pot\u{0}with a NUL".to_string() } else { format!("Pot {n}") };
        csv.push_str(&format!("S{n},{title},{n}.00\n"));
    }
    let queued =
        common::post_form(admin, "/api/v1/imports", &[("supplier", None, "NUL"), ("file", Some("nul.csv"), &csv)])
            .await;
    assert_eq!(queued.status, 202, "{}", queued.body);
    let job = format!("/api/v1/imports/{}", queued.json()["id"].as_str().unwrap());
    let ended = |job: &serde_json::Value| ["succeeded", "failed", "dead"].iter().any(|state| job["state"] == *state);
    let done = run_import(&sdk, admin, &job, ended).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    assert_eq!(
        (done["progress"]["created"].as_u64(), done["progress"]["invalid"].as_u64()),
        (Some(19), Some(1)),
        "{done}"
    );
    let errors = get(admin, &format!("{job}/errors.csv"), "").await.body;
    assert!(errors.contains("8,2,title,,control_character"), "line 8, column 2: {errors}");

    for (n, (title, code)) in
        [("Pot\\u0000", "NUL"), ("Pot\\u0007bell", "BEL"), ("Pot\\u009b", "CSI")].iter().enumerate()
    {
        let body = format!(r#"{{"title": "{title}", "sku": "CTRL-{n}"}}"#);
        let reply = request(admin, "POST", "/api/v1/products", "", Some(&body)).await;
        assert_eq!((reply.status, reply.json()["field"].as_str()), (422, Some("title")), "{code}: {}", reply.body);
    }
    let fine =
        request(admin, "POST", "/api/v1/products", "", Some(r#"{"title": "Two\nlines", "sku": "CTRL-OK"}"#)).await;
    assert_eq!(fine.status, 201, "{}", fine.body);
    server.stop().await.unwrap();
    sdk.close().await;
}

both_backends!(control_characters_are_refused_alike);

/// Finding 7: a price of `i64::MAX` minor units was accepted, and a feed rule (50 % markup, `.99` ending) then
/// wrapped it to 0.00. Amounts now have a documented maximum, refused above it, and the rule's arithmetic is checked.
async fn amounts_are_bounded(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "amounts_are_bounded").await else { return };
    let sdk = env.sdk().await;
    let server = TestServer::start(sdk.clone()).await;
    let admin = server.addr;
    let product =
        request(admin, "POST", "/api/v1/products", "", Some(r#"{"title": "Gold bar", "sku": "GOLD"}"#)).await.json();
    let id = product["id"].as_str().unwrap();
    for amount in [i64::MAX, productsmanager_core::catalog::MAX_AMOUNT_MINOR + 1] {
        let body = format!(
            r#"{{"product_id": "{id}", "price_type": "retail", "amount": {{"amount_minor": {amount}, "currency": "EUR"}}}}"#
        );
        let reply = request(admin, "POST", "/api/v1/prices", "", Some(&body)).await;
        assert_eq!(
            (reply.status, reply.json()["field"].as_str()),
            (422, Some("amount.amount_minor")),
            "{}",
            reply.body
        );
    }
    let largest = productsmanager_core::catalog::MAX_AMOUNT_MINOR;
    let body = format!(
        r#"{{"product_id": "{id}", "price_type": "retail", "amount": {{"amount_minor": {largest}, "currency": "EUR"}}}}"#
    );
    assert_eq!(request(admin, "POST", "/api/v1/prices", "", Some(&body)).await.status, 200);
    let rule = productsmanager_core::exports::PriceRule { markup_percent: Some(50.0), ending_minor: Some(99) };
    assert_eq!(rule.apply(i64::MAX, 100), None, "no wrapped price");
    assert_eq!(rule.apply(largest, 100), Some(1_499_999_999_999));
    server.stop().await.unwrap();
    sdk.close().await;
}

both_backends!(amounts_are_bounded);

/// Finding 8: a console form posted with no `Origin` (a cross-site `Referer`, or `Sec-Fetch-Site: cross-site`) was
/// taken, and pages carried no CSP, framing, sniffing or caching rules. Now a post is taken only when the browser
/// says it came from the console's own site, and every console response carries those headers.
async fn console_forms_and_pages_are_guarded(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "console_forms_and_pages_are_guarded").await else { return };
    let sdk = env.sdk().await;
    let server = TestServer::start(sdk.clone()).await;
    let anyone = server.addr.anonymous();
    let host = anyone.socket.to_string();
    let form = "email=admin%40example.com&password=whatever+it+is";
    let post = |headers: String| async move {
        let headers =
            format!("{headers}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n", form.len());
        common::request_bytes(anyone, "POST", "/console/login", &headers, form.as_bytes()).await
    };
    for forged in [
        String::new(),
        "Referer: http://evil.example/page\r\n".to_string(),
        "Sec-Fetch-Site: cross-site\r\n".to_string(),
        format!("Sec-Fetch-Site: cross-site\r\nOrigin: http://{host}\r\n"),
        "Origin: http://evil.example\r\n".to_string(),
        "Origin: null\r\n".to_string(),
    ] {
        assert_eq!(post(forged.clone()).await.status, 403, "{forged:?}");
    }
    for own in [
        format!("Origin: http://{host}\r\n"),
        "Sec-Fetch-Site: same-origin\r\n".to_string(),
        format!("Referer: http://{host}/console/login\r\n"),
    ] {
        let status = post(own.clone()).await.status;
        assert_ne!(status, 403, "{own:?}: taken (then refused as a wrong password, not as forged)");
    }
    let page = common::request_bytes(anyone, "GET", "/console/login", "", b"").await;
    assert_eq!(page.status, 200);
    let csp = page.header("content-security-policy").unwrap_or_default().to_string();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    for (name, value) in [
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
        ("cache-control", "no-store"),
    ] {
        assert_eq!(page.header(name), Some(value), "{name}");
    }
    server.stop().await.unwrap();
    sdk.close().await;
}

both_backends!(console_forms_and_pages_are_guarded);

/// Finding 9: a known e-mail was locked (429) after 5 wrong passwords while an unknown one answered 401 forever,
/// which told who has an account. Both now get the same answers, attempt by attempt.
async fn sign_in_does_not_tell_who_has_an_account(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "sign_in_does_not_tell_who_has_an_account").await else { return };
    let sdk = env.sdk().await;
    let input = NewUser {
        email: "known@example.com".into(),
        display_name: None,
        password: "the right password".into(),
        roles: vec!["viewer".into()],
    };
    sdk.auth().create_user(input).await.unwrap();
    let server = TestServer::start(sdk.clone()).await;
    let anyone = server.addr.anonymous();
    let attempt = |email: &'static str| async move {
        let body = format!(r#"{{"email": "{email}", "password": "a wrong password"}}"#);
        let reply = request(anyone, "POST", "/api/v1/auth/login", "", Some(&body)).await;
        (reply.status, reply.json()["type"].as_str().map(str::to_string), reply.header("retry-after").is_some())
    };
    let mut statuses = Vec::new();
    for n in 0..7 {
        let (known, unknown) = (attempt("known@example.com").await, attempt("nobody@example.com").await);
        assert_eq!(known, unknown, "attempt {n}: a known and an unknown account answer alike");
        statuses.push(known.0);
    }
    assert_eq!(statuses.first(), Some(&401));
    assert_eq!(statuses.last(), Some(&429), "both are locked in the end: {statuses:?}");
    server.stop().await.unwrap();
    sdk.close().await;
}

both_backends!(sign_in_does_not_tell_who_has_an_account);
