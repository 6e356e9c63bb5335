//! HTTP adapter tests: a real server on 127.0.0.1:0 over fresh databases, on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener as StdListener;

use productsmanager_core::both_backends;
use productsmanager_core::db::{Backend, Database};
use productsmanager_core::testing::TestDatabases;
use serde_json::json;
use tokio::net::TcpStream;

mod common;
use common::{TestServer, get, post_form, request};

async fn health_routes_report_seven_databases(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "health_routes_report_seven_databases").await else { return };
    let sdk = env.sdk().await;
    let server = TestServer::start(sdk.clone()).await;

    let live = get(server.addr, "/health", "").await;
    assert_eq!(live.status, 200);
    assert_eq!(live.json()["status"], "up");

    let db = get(server.addr, "/health/db", "").await;
    assert_eq!(db.status, 200, "{}", db.body);
    let report = db.json();
    assert_eq!(report["status"], "up");
    let databases = report["databases"].as_array().unwrap();
    let names: Vec<&str> = databases.iter().map(|d| d["database"].as_str().unwrap()).collect();
    assert_eq!(names, Database::ALL.map(|d| d.name()).to_vec());
    for entry in databases {
        assert_eq!(entry["status"], "up");
        assert_eq!(entry["backend"], backend.to_string());
        assert!(entry["latency_ms"].as_f64().unwrap() >= 0.0);
    }
    // No Redis configured: nothing to check, and ready.
    let redis = get(server.addr, "/health/redis", "").await;
    assert_eq!((redis.status, redis.json()["status"].as_str()), (200, Some("not_configured")), "{}", redis.body);
    let ready = get(server.addr, "/health/ready", "").await;
    assert_eq!((ready.status, ready.json()["status"].as_str()), (200, Some("ready")), "{}", ready.body);
    assert_eq!(ready.json()["databases"]["status"], "up");
    server.stop().await.unwrap();
    sdk.close().await;
}

/// `/health/redis` with Redis answering, then with a Redis that is not there: 503 naming why, and `/health/ready`
/// still 200 (`degraded`: the cache works without it).
async fn redis_health_and_readiness(backend: Backend) {
    let Some(redis_url) = productsmanager_core::testing::redis_url("redis_health_and_readiness") else { return };
    let Some(mut env) = TestDatabases::named(backend, "redis_health_and_readiness").await else { return };
    env.config_mut().cache.redis_url = Some(redis_url);
    let sdk = env.sdk().await;
    let server = TestServer::start(sdk.clone()).await;
    let redis = get(server.addr, "/health/redis", "").await;
    assert_eq!((redis.status, redis.json()["status"].as_str()), (200, Some("up")), "{}", redis.body);
    assert!(redis.json()["latency_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(get(server.addr, "/health/ready", "").await.json()["status"], "ready");
    server.stop().await.unwrap();
    sdk.close().await;

    let port = StdListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    env.config_mut().cache.redis_url = Some(format!("redis://127.0.0.1:{port}/"));
    let sdk = env.sdk().await;
    let server = TestServer::start(sdk.clone()).await;
    let redis = get(server.addr, "/health/redis", "").await;
    assert_eq!((redis.status, redis.json()["status"].as_str()), (503, Some("down")), "{}", redis.body);
    assert!(!redis.json()["error"].as_str().unwrap().is_empty());
    let ready = get(server.addr, "/health/ready", "").await;
    assert_eq!((ready.status, ready.json()["status"].as_str()), (200, Some("degraded")), "{}", ready.body);
    server.stop().await.unwrap();
    sdk.close().await;
}

async fn one_database_down_gives_503_naming_it(backend: Backend) {
    let Some(mut env) = TestDatabases::named(backend, "one_database_down_gives_503").await else { return };
    let port = StdListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    env.config_mut().database.catalog.url = Some(format!("postgres://pm@127.0.0.1:{port}/pm_catalog"));
    // Long enough for the six reachable databases to answer on a loaded machine; the refused one fails at once.
    env.config_mut().database.connect_timeout_secs = 10;
    let sdk = env.sdk().await;
    let server = TestServer::start(sdk.clone()).await;

    let reply = get(server.addr, "/health/db", "").await;
    assert_eq!(reply.status, 503);
    let report = reply.json();
    assert_eq!(report["status"], "down");
    let databases = report["databases"].as_array().unwrap();
    let down: Vec<&str> =
        databases.iter().filter(|d| d["status"] == "down").map(|d| d["database"].as_str().unwrap()).collect();
    assert_eq!(down, vec!["catalog"]);
    let catalog = databases.iter().find(|d| d["database"] == "catalog").unwrap();
    assert!(catalog["error"].as_str().unwrap().contains("catalog"), "{catalog}");
    assert_eq!(databases.iter().filter(|d| d["status"] == "up").count(), 6);
    // Not ready for traffic; liveness is unaffected.
    let ready = get(server.addr, "/health/ready", "").await;
    assert_eq!((ready.status, ready.json()["status"].as_str()), (503, Some("not_ready")), "{}", ready.body);
    assert_eq!(get(server.addr, "/health", "").await.status, 200);
    server.stop().await.unwrap();
    sdk.close().await;
}

/// Issue 30: with the analytics database down, the catalog still answers, so the instance stays in rotation:
/// `/health/ready` is 200 `degraded` naming the database, at once (it waited for the connect timeout, then said
/// 503, and a load balancer pulled every instance).
async fn an_optional_database_down_degrades_readiness(backend: Backend) {
    let Some(mut env) = TestDatabases::named(backend, "an_optional_database_down_degrades_readiness").await else {
        return;
    };
    let port = StdListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    env.config_mut().database.analytics.url = Some(format!("postgres://pm@127.0.0.1:{port}/pm_analytics"));
    env.config_mut().database.connect_timeout_secs = 20;
    // The analytics events of the requests below wait this long for their database when the test ends.
    env.config_mut().database.analytics.acquire_timeout_secs = 2;
    let sdk = env.sdk().await;
    let server = TestServer::start(sdk.clone()).await;
    let started = std::time::Instant::now();
    let ready = get(server.addr, "/health/ready", "").await;
    let took = started.elapsed();
    assert_eq!((ready.status, ready.json()["status"].as_str()), (200, Some("degraded")), "{}", ready.body);
    let degraded = ready.json()["degraded"].clone();
    assert!(
        degraded.as_array().unwrap().iter().any(|d| d.as_str().unwrap().starts_with("database analytics")),
        "{degraded}"
    );
    // A refused connection is known at once; the connect timeout (20 s here) is for a server that does not answer.
    assert!(took < std::time::Duration::from_secs(15), "readiness took {took:?}");
    println!("readiness with analytics refusing connections answered in {took:?}");
    let created =
        request(server.addr, "POST", "/api/v1/products", "", Some(r#"{"sku": "UP", "title": "Still up"}"#)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    server.stop().await.unwrap();
    sdk.close().await;
}

async fn brands_over_http(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "brands_over_http").await else { return };
    let sdk = env.sdk().await;
    let server = TestServer::start(sdk.clone()).await;
    let addr = server.addr;

    let created = request(addr, "POST", "/api/v1/brands", "", Some(r#"{"name": "Acme Tools"}"#)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let brand = created.json();
    let id = brand["id"].as_str().unwrap().to_string();
    assert_eq!(created.header("location"), Some(format!("/api/v1/brands/{id}").as_str()));
    assert_eq!(brand["slug"], "acme-tools");

    let by_slug = get(addr, "/api/v1/brands/acme-tools", "").await;
    assert_eq!((by_slug.status, by_slug.json()["id"].as_str()), (200, Some(id.as_str())));
    let patched =
        request(addr, "PATCH", &format!("/api/v1/brands/{id}"), "", Some(r#"{"description": "Hand tools"}"#)).await;
    assert_eq!((patched.status, patched.json()["description"].as_str()), (200, Some("Hand tools")));
    let listed = get(addr, "/api/v1/brands", "").await;
    assert_eq!(listed.json()["items"].as_array().unwrap().len(), 1);

    // Refusals are problem+json naming the field.
    let cases = [
        ("POST", "/api/v1/brands".to_string(), Some(r#"{"name": "Other", "slug": "acme-tools"}"#), 409, "slug"),
        ("POST", "/api/v1/brands".to_string(), Some(r#"{"name": "X", "website_url": "nope"}"#), 422, "website_url"),
        ("POST", "/api/v1/brands".to_string(), Some(r#"{"name": 5}"#), 422, "name"),
        ("POST", "/api/v1/brands".to_string(), Some(r#"{"name": "X", "colour": 1}"#), 422, "colour"),
        ("POST", "/api/v1/brands".to_string(), Some("{not json"), 422, "body"),
        ("PUT", "/api/v1/brands/not-a-uuid".to_string(), Some(r#"{"name": "X"}"#), 422, "id"),
    ];
    for (method, path, body, status, field) in cases {
        let reply = request(addr, method, &path, "", body).await;
        assert_eq!(reply.status, status, "{method} {path} {body:?}: {}", reply.body);
        assert_eq!(reply.header("content-type"), Some("application/problem+json"));
        assert_eq!(reply.json()["field"], field, "{}", reply.body);
    }

    let deleted = request(addr, "DELETE", &format!("/api/v1/brands/{id}"), "", None).await;
    assert_eq!(deleted.status, 204);
    assert_eq!(get(addr, &format!("/api/v1/brands/{id}"), "").await.status, 404);
    server.stop().await.unwrap();
    sdk.close().await;
}

async fn suppliers_over_http(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "suppliers_over_http").await else { return };
    let sdk = env.sdk().await;
    let server = TestServer::start(sdk.clone()).await;
    let addr = server.addr;
    let created = request(
        addr,
        "POST",
        "/api/v1/suppliers",
        "",
        Some(r#"{"code": "ACME", "name": "Acme", "default_currency": "eur"}"#),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.json()["default_currency"], "EUR");
    let by_code = get(addr, "/api/v1/suppliers/ACME", "").await;
    assert_eq!(by_code.json()["name"], "Acme");
    let bad = request(
        addr,
        "POST",
        "/api/v1/suppliers",
        "",
        Some(r#"{"code": "B", "name": "B", "default_currency": "EUX"}"#),
    )
    .await;
    assert_eq!((bad.status, bad.json()["field"].as_str()), (422, Some("default_currency")));
    assert_eq!(get(addr, "/api/v1/suppliers", "").await.json()["items"].as_array().unwrap().len(), 1);
    server.stop().await.unwrap();
    sdk.close().await;
}

async fn products_over_http(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "products_over_http").await else { return };
    let sdk = env.sdk().await;
    let server = TestServer::start(sdk.clone()).await;
    let addr = server.addr;

    let body = r#"{"gtin": "4006381333931", "sku": "PEN-1", "title": "Pen",
        "attributes": [{"name": "colour", "kind": "text", "value": "blue"},
                       {"name": "length", "kind": "number", "value": 14.5, "unit": "cm"}]}"#;
    let created = request(addr, "POST", "/api/v1/products", "", Some(body)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.header("etag"), Some("\"1\""));
    let product = created.json();
    let id = product["id"].as_str().unwrap().to_string();
    assert_eq!(product["attributes"][1]["unit"], "cm");
    assert_eq!(product["status"], "draft");

    for key in ["4006381333931", "PEN-1", id.as_str()] {
        let found = get(addr, &format!("/api/v1/products/{key}"), "").await;
        assert_eq!((found.status, found.json()["id"].as_str()), (200, Some(id.as_str())), "{key}");
    }
    // If-Match carries the version: the first write wins, the second fails its precondition (412), nothing
    // written. A stale `version` in the body is a conflict in the body (409).
    let path = format!("/api/v1/products/{id}");
    let first = request(addr, "PATCH", &path, "If-Match: \"1\"\r\n", Some(r#"{"title": "Blue pen"}"#)).await;
    assert_eq!((first.status, first.header("etag")), (200, Some("\"2\"")), "{}", first.body);
    let second = request(addr, "PATCH", &path, "If-Match: \"1\"\r\n", Some(r#"{"title": "Red pen"}"#)).await;
    assert_eq!(second.status, 412, "{}", second.body);
    assert_eq!(second.header("content-type"), Some("application/problem+json"));
    let replaced = r#"{"gtin": "4006381333931", "sku": "PEN-1", "title": "Red pen", "version": 1}"#;
    let put = request(addr, "PUT", &path, "If-Match: \"1\"\r\n", Some(replaced)).await;
    assert_eq!(put.status, 409, "{}", put.body);
    let stale = request(addr, "PATCH", &path, "", Some(r#"{"title": "Red pen", "version": 1}"#)).await;
    assert_eq!(stale.status, 409, "{}", stale.body);
    assert_eq!(get(addr, &path, "").await.json()["title"], "Blue pen");

    let cases = [
        (r#"{"gtin": "4006381333932", "title": "x"}"#, 422, "gtin"),
        (r#"{"sku": "PEN-1", "title": "x"}"#, 409, "sku"),
        (r#"{"sku": "P2", "title": "x", "status": "sold"}"#, 422, "status"),
        (
            r#"{"sku": "P2", "title": "x", "attributes": [{"name": "a", "kind": "number", "value": "n"}]}"#,
            422,
            "attributes[0]",
        ),
    ];
    for (body, status, field) in cases {
        let reply = request(addr, "POST", "/api/v1/products", "", Some(body)).await;
        assert_eq!(reply.status, status, "{body}: {}", reply.body);
        assert!(reply.json()["field"].as_str().unwrap().starts_with(field), "{body}: {}", reply.body);
    }

    let bulk = request(addr, "POST", "/api/v1/products/bulk-get", "", Some(&format!(r#"{{"ids": ["{id}"]}}"#))).await;
    assert_eq!(bulk.json().as_array().unwrap().len(), 1);
    assert_eq!(request(addr, "DELETE", &path, "", None).await.status, 204);
    assert_eq!(get(addr, &path, "").await.status, 404);
    assert_eq!(request(addr, "POST", &format!("{path}/purge"), "", None).await.status, 204);
    server.stop().await.unwrap();
    sdk.close().await;
}

async fn listing_and_commerce_over_http(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "listing_and_commerce_over_http").await else { return };
    let sdk = env.sdk().await;
    let server = TestServer::start(sdk.clone()).await;
    let addr = server.addr;
    let supplier = request(addr, "POST", "/api/v1/suppliers", "", Some(r#"{"code": "S", "name": "S"}"#)).await.json();
    let mut ids = Vec::new();
    for i in 0..3 {
        let body = format!(r#"{{"sku": "P{i}", "title": "Product {i}"}}"#);
        ids.push(
            request(addr, "POST", "/api/v1/products", "", Some(&body)).await.json()["id"].as_str().unwrap().to_string(),
        );
    }
    let price = format!(
        r#"{{"product_id": "{}", "price_type": "retail", "amount": {{"amount_minor": 1999, "currency": "EUR"}}}}"#,
        ids[1]
    );
    assert_eq!(request(addr, "POST", "/api/v1/prices", "", Some(&price)).await.status, 200);
    let offer = format!(
        r#"{{"product_id": "{}", "supplier_id": "{}", "supplier_sku": "S-1", "cost": {{"amount_minor": 999, "currency": "EUR"}}, "stock": 4}}"#,
        ids[1],
        supplier["id"].as_str().unwrap()
    );
    let recorded = request(addr, "POST", "/api/v1/offers", "", Some(&offer)).await;
    assert_eq!(recorded.status, 200, "{}", recorded.body);
    let stock = format!(r#"{{"product_id": "{}", "quantity": 7}}"#, ids[2]);
    assert_eq!(request(addr, "PUT", "/api/v1/stock", "", Some(&stock)).await.status, 200);

    let first = get(addr, "/api/v1/products?limit=2", "").await;
    assert_eq!(first.status, 200, "{}", first.body);
    let first = first.json();
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = get(addr, &format!("/api/v1/products?limit=2&cursor={cursor}"), "").await.json();
    assert_eq!(second["items"][0]["id"], ids[2].as_str());
    assert!(second["next_cursor"].is_null());
    assert_eq!(second["items"][0]["stock"]["available"], 7);

    let filtered = get(addr, "/api/v1/products?in_stock=true&price_min=1000&currency=EUR", "").await.json();
    let found: Vec<&str> = filtered["items"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(found, vec![ids[1].as_str()]);
    assert_eq!(filtered["items"][0]["best_offer"]["supplier_sku"], "S-1");
    assert_eq!(filtered["items"][0]["prices"][0]["amount"]["amount_minor"], 1999);
    for (query, field) in
        [("limit=abc", "limit"), ("colour=red", "colour"), ("status=sold", "status"), ("price_min=5", "currency")]
    {
        let reply = get(addr, &format!("/api/v1/products?{query}"), "").await;
        assert_eq!((reply.status, reply.json()["field"].as_str()), (422, Some(field)), "{query}: {}", reply.body);
    }
    assert_eq!(get(addr, &format!("/api/v1/products/{}/offers", ids[1]), "").await.json().as_array().unwrap().len(), 1);
    assert_eq!(
        get(addr, &format!("/api/v1/products/{}/prices?at=now", ids[1]), "").await.json().as_array().unwrap().len(),
        1
    );
    assert_eq!(get(addr, &format!("/api/v1/products/{}/prices?at=soon", ids[1]), "").await.status, 422);
    assert_eq!(get(addr, &format!("/api/v1/products/{}/stock", ids[2]), "").await.json()[0]["quantity"], 7);
    server.stop().await.unwrap();
    sdk.close().await;
}

async fn categories_over_http(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "categories_over_http").await else { return };
    let sdk = env.sdk().await;
    let server = TestServer::start(sdk.clone()).await;
    let addr = server.addr;
    let tools = request(addr, "POST", "/api/v1/categories", "", Some(r#"{"name": "Tools"}"#)).await;
    assert_eq!(tools.status, 201, "{}", tools.body);
    let tools_id = tools.json()["id"].as_str().unwrap().to_string();
    let body = format!(r#"{{"name": "Drills", "parent_id": "{tools_id}"}}"#);
    let drills_id =
        request(addr, "POST", "/api/v1/categories", "", Some(&body)).await.json()["id"].as_str().unwrap().to_string();
    let tree = get(addr, "/api/v1/categories", "").await.json();
    assert_eq!(tree[0]["name"], "Tools");
    assert_eq!(tree[0]["children"][0]["name"], "Drills");
    let crumbs = get(addr, &format!("/api/v1/categories/{drills_id}/breadcrumbs"), "").await.json();
    assert_eq!(crumbs.as_array().unwrap().len(), 2);
    let cycle = request(
        addr,
        "PATCH",
        &format!("/api/v1/categories/{tools_id}"),
        "",
        Some(&format!(r#"{{"parent_id": "{drills_id}"}}"#)),
    )
    .await;
    assert_eq!((cycle.status, cycle.json()["field"].as_str()), (422, Some("parent_id")));
    let product =
        request(addr, "POST", "/api/v1/products", "", Some(r#"{"sku": "D1", "title": "Drill"}"#)).await.json();
    let product_id = product["id"].as_str().unwrap();
    let linked =
        request(addr, "PUT", &format!("/api/v1/products/{product_id}/categories/{drills_id}?primary=true"), "", None)
            .await;
    assert_eq!(linked.status, 204, "{}", linked.body);
    let listed = get(addr, &format!("/api/v1/products?category_id={tools_id}"), "").await.json();
    assert_eq!(listed["items"][0]["id"], product_id);
    assert_eq!(request(addr, "DELETE", &format!("/api/v1/categories/{drills_id}"), "", None).await.status, 409);
    server.stop().await.unwrap();
    sdk.close().await;
}

async fn relations_over_http(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "relations_over_http").await else { return };
    let sdk = env.sdk().await;
    let server = TestServer::start(sdk.clone()).await;
    let addr = server.addr;
    let mut ids = Vec::new();
    for sku in ["SHIRT", "SHIRT-S", "KIT"] {
        let body = format!(r#"{{"sku": "{sku}", "title": "{sku}"}}"#);
        ids.push(
            request(addr, "POST", "/api/v1/products", "", Some(&body)).await.json()["id"].as_str().unwrap().to_string(),
        );
    }
    let variant =
        format!(r#"{{"parent_product_id": "{}", "product_id": "{}", "options": {{"size": "S"}}}}"#, ids[0], ids[1]);
    assert_eq!(request(addr, "PUT", "/api/v1/variants", "", Some(&variant)).await.status, 200);
    assert_eq!(get(addr, &format!("/api/v1/products/{}/variants", ids[0]), "").await.json()[0]["options"]["size"], "S");
    let bundle = format!(r#"{{"items": [{{"product_id": "{}", "quantity": 2}}]}}"#, ids[1]);
    assert_eq!(
        request(addr, "PUT", &format!("/api/v1/products/{}/bundle", ids[2]), "", Some(&bundle)).await.status,
        200
    );
    assert_eq!(get(addr, &format!("/api/v1/products/{}/bundle", ids[2]), "").await.json()["items"][0]["quantity"], 2);
    assert_eq!(get(addr, &format!("/api/v1/products/{}/bundle", ids[0]), "").await.status, 404);
    let bad = format!(r#"{{"items": [{{"product_id": "{}", "quantity": 0}}]}}"#, ids[1]);
    let reply = request(addr, "PUT", &format!("/api/v1/products/{}/bundle", ids[2]), "", Some(&bad)).await;
    assert_eq!((reply.status, reply.json()["field"].as_str()), (422, Some("items[0].quantity")));
    let seo = format!(r#"{{"product_id": "{}", "locale": "en", "meta_title": "Red shirt"}}"#, ids[0]);
    assert_eq!(request(addr, "PUT", "/api/v1/seo", "", Some(&seo)).await.json()["slug"], "red-shirt");
    assert_eq!(get(addr, &format!("/api/v1/products/{}/seo", ids[0]), "").await.json().as_array().unwrap().len(), 1);
    server.stop().await.unwrap();
    sdk.close().await;
}

/// The issue's list: bad GTIN check digit, negative price, unknown currency, category cycle → 422 naming the field;
/// duplicate SKU → 409 naming it; none of them a 500.
async fn bad_catalog_input_is_named_never_500(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "bad_catalog_input_is_named_never_500").await else { return };
    let sdk = env.sdk().await;
    let server = TestServer::start(sdk.clone()).await;
    let addr = server.addr;
    let product = request(addr, "POST", "/api/v1/products", "", Some(r#"{"sku": "A-1", "title": "A"}"#)).await.json();
    let id = product["id"].as_str().unwrap();
    let parent = request(addr, "POST", "/api/v1/categories", "", Some(r#"{"name": "Parent"}"#)).await.json();
    let parent_id = parent["id"].as_str().unwrap();
    let child = request(
        addr,
        "POST",
        "/api/v1/categories",
        "",
        Some(&format!(r#"{{"name": "Child", "parent_id": "{parent_id}"}}"#)),
    )
    .await
    .json();
    let child_id = child["id"].as_str().unwrap();
    let price = |amount: i64, currency: &str| {
        format!(
            r#"{{"product_id": "{id}", "price_type": "retail", "amount": {{"amount_minor": {amount}, "currency": "{currency}"}}}}"#
        )
    };
    let cases = [
        ("POST", "/api/v1/products".to_string(), r#"{"gtin": "4006381333932", "title": "x"}"#.to_string(), 422, "gtin"),
        ("POST", "/api/v1/prices".to_string(), price(-100, "EUR"), 422, "amount.amount_minor"),
        ("POST", "/api/v1/prices".to_string(), price(100, "EUX"), 422, "amount.currency"),
        (
            "PATCH",
            format!("/api/v1/categories/{parent_id}"),
            format!(r#"{{"parent_id": "{child_id}"}}"#),
            422,
            "parent_id",
        ),
        ("POST", "/api/v1/products".to_string(), r#"{"sku": "A-1", "title": "Same SKU"}"#.to_string(), 409, "sku"),
    ];
    for (method, path, body, status, field) in cases {
        let reply = request(addr, method, &path, "", Some(&body)).await;
        assert_eq!(reply.status, status, "{method} {path} {body}: {}", reply.body);
        assert_eq!(reply.header("content-type"), Some("application/problem+json"));
        assert_eq!(reply.json()["field"], field, "{body}: {}", reply.body);
    }
    server.stop().await.unwrap();
    sdk.close().await;
}

async fn jobs_over_http(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "jobs_over_http").await else { return };
    let sdk = env.sdk().await;
    let server = TestServer::start(sdk.clone()).await;
    let addr = server.addr;
    let created = request(addr, "POST", "/api/v1/jobs", "", Some(r#"{"queue": "catalog", "kind": "reindex"}"#)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.json()["id"].as_str().unwrap().to_string();
    let act = |action: &'static str| {
        let path = format!("/api/v1/jobs/{id}/{action}");
        async move { request(addr, "POST", &path, "", None).await }
    };
    assert_eq!(act("pause").await.json()["state"], "paused");
    let again = act("pause").await;
    assert_eq!((again.status, again.json()["field"].as_str()), (422, Some("state")));
    assert_eq!(act("resume").await.json()["state"], "queued");
    assert_eq!(act("cancel").await.json()["state"], "cancelled");
    assert_eq!(act("retry").await.json()["state"], "queued");
    assert_eq!(act("explode").await.status, 404);
    let listed = get(addr, "/api/v1/jobs?queue=catalog&state=queued", "").await.json();
    assert_eq!((listed["items"].as_array().unwrap().len(), listed["next_cursor"].is_null()), (1, true));
    // Pages, newest first, one job at a time: every job once.
    for kind in ["first", "second", "third"] {
        let body = format!(r#"{{"queue": "catalog", "kind": "{kind}"}}"#);
        assert_eq!(request(addr, "POST", "/api/v1/jobs", "", Some(&body)).await.status, 201);
    }
    let (mut seen, mut cursor) = (Vec::new(), String::new());
    loop {
        let page = get(addr, &format!("/api/v1/jobs?queue=catalog&limit=1&cursor={cursor}"), "").await.json();
        seen.extend(page["items"].as_array().unwrap().iter().map(|j| j["kind"].as_str().unwrap().to_string()));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_string(),
            None => break,
        }
    }
    assert_eq!(seen, ["third", "second", "first", "reindex"]);
    let bad = get(addr, "/api/v1/jobs?cursor=yesterday", "").await;
    assert_eq!((bad.status, bad.json()["field"].as_str()), (422, Some("cursor")));
    let workers = get(addr, "/health/workers", "").await;
    assert_eq!(workers.status, 200, "{}", workers.body);
    let queues = workers.json()["queues"].clone();
    let names: Vec<&str> = queues.as_array().unwrap().iter().map(|q| q["queue"].as_str().unwrap()).collect();
    assert_eq!(names, ["imports", "exports", "code2asin", "catalog", "media"]);
    assert_eq!((queues[3]["queued"].as_u64(), queues[3]["workers"].as_u64()), (Some(4), Some(0)));
    assert_eq!(get(addr, "/api/v1/jobs?state=sleeping", "").await.status, 422);
    server.stop().await.unwrap();
    sdk.close().await;
}

/// Import configurations, schedules and files: credentials go in and never come out; bad settings name the field.
async fn import_configs_over_http(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "import_configs_over_http").await else { return };
    let sdk = env.sdk().await;
    let supplier = sdk
        .suppliers()
        .create(productsmanager_core::catalog::NewSupplier {
            code: "HTTPI".into(),
            name: "Via HTTP".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let server = TestServer::start(sdk.clone()).await;
    let addr = server.addr;
    let ftp = format!(
        r#"{{"name": "acme ftp", "supplier_id": "{}", "source_kind": "ftp",
            "source_settings": {{"host": "ftp.acme.test", "path": "/out"}},
            "credentials": {{"username": "acme", "password": "s3cret-pw"}}}}"#,
        supplier.id
    );
    let created = request(addr, "POST", "/api/v1/import-configs", "", Some(&ftp)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert!(!created.body.contains("s3cret-pw") && created.json()["has_credentials"] == true, "{}", created.body);
    let id = created.json()["id"].as_str().unwrap().to_string();
    let relative =
        ftp.replace(r#""source_kind": "ftp""#, r#""source_kind": "folder""#).replace("acme ftp", "acme drop");
    let refused = request(addr, "POST", "/api/v1/import-configs", "", Some(&relative)).await;
    assert_eq!(
        (refused.status, refused.json()["field"].as_str()),
        (422, Some("source_settings.host")),
        "{}",
        refused.body
    );
    let again = request(addr, "POST", "/api/v1/import-configs", "", Some(&ftp)).await;
    assert_eq!((again.status, again.json()["field"].as_str()), (409, Some("name")));

    let listed = get(addr, "/api/v1/import-configs", "").await;
    assert!(listed.status == 200 && !listed.body.contains("s3cret-pw"));
    assert_eq!(listed.json()["items"].as_array().unwrap().len(), 1);
    assert_eq!(get(addr, &format!("/api/v1/import-configs/{id}"), "").await.json()["name"], "acme ftp");
    let unknown = get(addr, &format!("/api/v1/import-configs/{}", uuid::Uuid::now_v7()), "").await;
    assert_eq!(unknown.status, 404);

    let schedules = format!("/api/v1/import-configs/{id}/schedules");
    let bad_cron = request(addr, "POST", &schedules, "", Some(r#"{"cron": "every morning"}"#)).await;
    assert_eq!((bad_cron.status, bad_cron.json()["field"].as_str()), (422, Some("cron")));
    let added = request(addr, "POST", &schedules, "", Some(r#"{"cron": "0 6 * * *"}"#)).await;
    assert_eq!((added.status, added.json()["timezone"].as_str()), (201, Some("UTC")), "{}", added.body);
    assert_eq!(get(addr, &schedules, "").await.json().as_array().unwrap().len(), 1);
    let files = get(addr, &format!("/api/v1/import-configs/{id}/files"), "").await;
    assert_eq!((files.status, files.json().as_array().map(Vec::len)), (200, Some(0)));
    let deleted = request(addr, "DELETE", &format!("/api/v1/import-configs/{id}"), "", None).await;
    assert_eq!(deleted.status, 204);
    assert_eq!(get(addr, &format!("/api/v1/import-configs/{id}"), "").await.status, 404);
    assert_eq!(request(addr, "DELETE", &format!("/api/v1/import-configs/{id}"), "", None).await.status, 404);
    server.stop().await.unwrap();
    sdk.close().await;
}

/// A file uploaded as multipart is queued, imported by a worker, and its refused rows served as CSV; mapping
/// templates are created, read and deleted.
async fn imports_over_http(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "imports_over_http").await else { return };
    let sdk = env.sdk().await;
    let new_supplier = productsmanager_core::catalog::NewSupplier {
        code: "UPL".into(),
        name: "Uploads".into(),
        default_currency: Some("EUR".into()),
        ..Default::default()
    };
    sdk.suppliers().create(new_supplier).await.unwrap();
    let server = TestServer::start(sdk.clone()).await;
    let addr = server.addr;
    let csv = "sku,gtin,title,price\nU1,4006381333931,Upload one,3.50\nU2,4006381333932,Upload two,4\n";
    let queued = post_form(addr, "/api/v1/imports", &[("supplier", None, "UPL"), ("file", Some("up.csv"), csv)]).await;
    assert_eq!(queued.status, 202, "{}", queued.body);
    assert_eq!(queued.json()["state"], "queued");
    let id = queued.json()["id"].as_str().unwrap().to_string();
    let workers = sdk.job_runner("http-imports", &["imports".to_string()]).unwrap().start();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let done = loop {
        let job = get(addr, &format!("/api/v1/imports/{id}"), "").await.json();
        if job["state"] == "succeeded" || std::time::Instant::now() > deadline {
            break job;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    workers.shutdown(std::time::Duration::from_secs(5)).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    assert_eq!((done["progress"]["created"].as_u64(), done["progress"]["invalid"].as_u64()), (Some(1), Some(1)));
    let errors = get(addr, &format!("/api/v1/imports/{id}/errors.csv"), "").await;
    assert_eq!(errors.status, 200);
    assert!(errors.headers.iter().any(|(n, v)| n.eq_ignore_ascii_case("content-type") && v.starts_with("text/csv")));
    assert!(errors.body.contains("3,2,gtin,4006381333932,invalid_gtin"), "{}", errors.body);
    let listed = get(addr, "/api/v1/imports?supplier=UPL", "").await.json();
    assert_eq!((listed["items"].as_array().unwrap().len(), listed["next_cursor"].is_null()), (1, true));

    let refused = post_form(addr, "/api/v1/imports", &[("supplier", None, "UPL"), ("colour", None, "red")]).await;
    assert_eq!((refused.status, refused.json()["field"].as_str()), (422, Some("colour")), "{}", refused.body);
    let no_file = post_form(addr, "/api/v1/imports", &[("supplier", None, "UPL")]).await;
    assert_eq!((no_file.status, no_file.json()["field"].as_str()), (422, Some("file")), "{}", no_file.body);

    let template = r#"{"name": "upl", "definition": {"columns": [{"column": "Ref", "to": "supplier_sku"}]}}"#;
    let saved = request(addr, "POST", "/api/v1/mapping-templates", "", Some(template)).await;
    assert_eq!(saved.status, 201, "{}", saved.body);
    assert_eq!(saved.json()["version"], 1);
    let template_id = saved.json()["id"].as_str().unwrap().to_string();
    let bad =
        request(addr, "POST", "/api/v1/mapping-templates", "", Some(r#"{"name": "x", "definition": {"columns": []}}"#))
            .await;
    assert_eq!((bad.status, bad.json()["field"].as_str()), (422, Some("definition.columns")), "{}", bad.body);
    assert_eq!(get(addr, "/api/v1/mapping-templates", "").await.json()["items"].as_array().unwrap().len(), 1);
    // An upload names its template as people do (issue 30): by name, or name@version; an unknown one is 404.
    for key in ["upl", "upl@1"] {
        let parts = [("supplier", None, "UPL"), ("template", None, key), ("file", Some("ref.csv"), "Ref\nR1\n")];
        let queued = post_form(addr, "/api/v1/imports", &parts).await;
        assert_eq!(queued.status, 202, "{key}: {}", queued.body);
        assert_eq!(queued.json()["mapping_template_id"], template_id.as_str(), "{key}");
    }
    let parts = [("supplier", None, "UPL"), ("template", None, "nope"), ("file", Some("ref.csv"), "Ref\nR1\n")];
    assert_eq!(post_form(addr, "/api/v1/imports", &parts).await.status, 404);
    let deleted = request(addr, "DELETE", &format!("/api/v1/mapping-templates/{template_id}"), "", None).await;
    assert_eq!(deleted.status, 204);
    assert_eq!(get(addr, &format!("/api/v1/mapping-templates/{template_id}"), "").await.status, 404);
    server.stop().await.unwrap();
    sdk.close().await;
}

/// A product's provenance over HTTP: a title changed through the API is recorded as the caller's and survives the
/// supplier's next file; a field locked over HTTP too; an unknown field is named.
async fn provenance_over_http(backend: Backend) {
    use productsmanager_core::imports::{ImportOptions, NewImport};
    let Some(env) = TestDatabases::named(backend, "provenance_over_http").await else { return };
    let sdk = env.sdk().await;
    let new_supplier = productsmanager_core::catalog::NewSupplier {
        code: "ACME".into(),
        name: "Acme".into(),
        default_currency: Some("EUR".into()),
        ..Default::default()
    };
    let supplier = sdk.suppliers().create(new_supplier).await.unwrap().id;
    let import = |n: u32, title: &str, price: &str| {
        let path = env.folder().join(format!("acme-{n}.csv"));
        std::fs::write(&path, format!("sku,gtin,title,price\nA1,4006381333931,{title},{price}\n")).unwrap();
        let input = NewImport {
            supplier_id: supplier,
            name: format!("acme-{n}.csv"),
            path,
            template: None,
            preset: Some(productsmanager_core::imports::mapping::Preset::Native),
            dry_run: false,
            force: false,
            options: ImportOptions::default(),
            requested_by: None,
        };
        let imports = sdk.imports();
        async move { imports.import_file(input, |_| {}).await.unwrap() }
    };
    import(1, "Pot", "9.90").await;
    let server = TestServer::start(sdk.clone()).await;
    let addr = server.addr;
    let product = get(addr, "/api/v1/products/4006381333931", "").await.json();
    let id = product["id"].as_str().unwrap().to_string();
    let patched = request(addr, "PATCH", &format!("/api/v1/products/{id}"), "", Some(r#"{"title": "Clay pot"}"#)).await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    let lock = format!("/api/v1/products/{id}/provenance/price:retail:EUR");
    let locked = request(addr, "PUT", &lock, "", Some(r#"{"action": "lock"}"#)).await;
    assert_eq!(locked.status, 200, "{}", locked.body);
    let colour = format!("/api/v1/products/{id}/provenance/colour");
    let unknown = request(addr, "PUT", &colour, "", Some(r#"{"action": "lock"}"#)).await;
    assert_eq!((unknown.status, unknown.json()["field"].as_str()), (422, Some("field")), "{}", unknown.body);

    let summary = import(2, "Pot v2", "12.50").await;
    assert_eq!(summary.fields_kept, 2, "{summary:?}");
    let provenance = get(addr, "/api/v1/products/4006381333931/provenance", "").await;
    assert_eq!(provenance.status, 200, "{}", provenance.body);
    let fields = provenance.json();
    let field = |name: &str| fields.as_array().unwrap().iter().find(|f| f["field"] == name).cloned().unwrap();
    assert_eq!(field("title")["source"]["kind"], "user", "{fields}");
    assert!(field("title")["source"]["user_id"].is_string(), "the caller is named: {fields}");
    let price = field("price:retail:EUR");
    assert_eq!((price["locked"].as_bool(), price["source"]["kind"].as_str()), (Some(true), Some("supplier")));
    assert_eq!(price["source_name"], "Acme");
    let now = get(addr, &format!("/api/v1/products/{id}"), "").await.json();
    assert_eq!(
        (now["title"].as_str(), now["prices"][0]["amount"]["amount_minor"].as_i64()),
        (Some("Clay pot"), Some(990))
    );
    let history = get(addr, "/api/v1/products/4006381333931/history?limit=10", "").await;
    assert_eq!(history.status, 200, "{}", history.body);
    let history = history.json();
    let lines: Vec<(&str, &str)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["field"].as_str().unwrap(), c["change"].as_str().unwrap()))
        .collect();
    assert_eq!(lines, [("price:retail:EUR", "lock"), ("title", "set")], "{history}");
    assert_eq!((history[1]["value"].as_str(), history[1]["source"]["kind"].as_str()), (Some("Clay pot"), Some("user")));
    server.stop().await.unwrap();
    sdk.close().await;
}

/// A feed queued over HTTP, written by an exports worker, downloaded with its type and name.
async fn exports_over_http(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "exports_over_http").await else { return };
    let sdk = env.sdk().await;
    let product = productsmanager_core::catalog::NewProduct {
        gtin: "4006381333931".parse().ok(),
        title: "Feed pen".into(),
        status: Some(productsmanager_core::catalog::ProductStatus::Active),
        ..Default::default()
    };
    sdk.products().create(product).await.unwrap();
    let server = TestServer::start(sdk.clone()).await;
    let addr = server.addr;
    let body = r#"{"format": "google_merchant_tsv", "settings": {"link_template": "https://shop.example/p/{key}"}}"#;
    let queued = request(addr, "POST", "/api/v1/exports/feeds", "", Some(body)).await;
    assert_eq!(queued.status, 202, "{}", queued.body);
    let id = queued.json()["id"].as_str().unwrap().to_string();
    assert_eq!(get(addr, &format!("/api/v1/exports/{id}/file"), "").await.status, 404, "no file before it ran");
    let workers = sdk.job_runner("http-exports", &["exports".to_string()]).unwrap().start();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let done = loop {
        let job = get(addr, &format!("/api/v1/exports/{id}"), "").await.json();
        if job["state"] == "succeeded" || std::time::Instant::now() > deadline {
            break job;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    workers.shutdown(std::time::Duration::from_secs(5)).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    // A product without a price is not a Google item: read, skipped.
    assert_eq!((done["items_total"].as_i64(), done["items_skipped"].as_i64()), (Some(1), Some(1)), "{done}");
    let file = get(addr, &format!("/api/v1/exports/{id}/file"), "").await;
    assert_eq!(file.status, 200);
    let header = |name: &str| file.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
    assert_eq!(header("content-type").as_deref(), Some("text/tab-separated-values; charset=utf-8"));
    assert!(header("content-disposition").unwrap().contains("google-merchant-tsv.tsv"));
    assert!(file.body.starts_with("id\titem_group_id\ttitle"), "{}", file.body);
    let listed = get(addr, "/api/v1/exports", "").await.json();
    assert_eq!(listed["items"][0]["id"], id.as_str());
    let bad = request(addr, "POST", "/api/v1/exports/feeds", "", Some(r#"{"format": "pdf"}"#)).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    let bad_rule = r#"{"format": "csv", "settings": {"price_rule": {"ending_minor": 100}}}"#;
    let bad = request(addr, "POST", "/api/v1/exports/feeds", "", Some(bad_rule)).await;
    assert_eq!((bad.status, bad.json()["field"].as_str()), (422, Some("settings.price_rule.ending_minor")));

    // A WooCommerce shop (the local fake): stored without showing its secret, a run queued and run by a worker,
    // each product's fate listed.
    let shop = productsmanager_fakes::woocommerce::FakeWooCommerce::start("ck_h", "cs_h").await.unwrap();
    let price = serde_json::json!({"product_id": sdk.products().find("4006381333931").await.unwrap().id,
        "price_type": "retail", "amount": {"amount_minor": 250, "currency": "EUR"}});
    assert!(request(addr, "POST", "/api/v1/prices", "", Some(&price.to_string())).await.status < 300);
    let platform = serde_json::json!({"name": "shop", "platform": "woocommerce", "endpoint": shop.base_url,
        "credentials": {"key": "ck_h", "secret": "cs_h"}});
    let added = request(addr, "POST", "/api/v1/exports/platforms", "", Some(&platform.to_string())).await;
    assert_eq!(added.status, 201, "{}", added.body);
    assert!(!added.body.contains("cs_h"));
    let listed = get(addr, "/api/v1/exports/platforms", "").await;
    assert_eq!(listed.json()[0]["name"], "shop");
    assert!(!listed.body.contains("cs_h"));
    let queued = request(addr, "POST", "/api/v1/exports/platforms/shop/runs", "", Some(r#"{"mode": "full"}"#)).await;
    assert_eq!(queued.status, 202, "{}", queued.body);
    let run_id = queued.json()["id"].as_str().unwrap().to_string();
    let workers = sdk.job_runner("http-exports-2", &["exports".to_string()]).unwrap().start();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let done = loop {
        let job = get(addr, &format!("/api/v1/exports/{run_id}"), "").await.json();
        if job["state"] == "succeeded" || std::time::Instant::now() > deadline {
            break job;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    workers.shutdown(std::time::Duration::from_secs(5)).await;
    assert_eq!((done["state"].as_str(), done["items_created"].as_i64()), (Some("succeeded"), Some(1)), "{done}");
    assert_eq!(shop.by_sku("4006381333931").unwrap()["regular_price"], "2.50");
    let items = get(addr, &format!("/api/v1/exports/{run_id}/items?status=created"), "").await.json();
    assert_eq!(items.as_array().unwrap().len(), 1, "{items}");
    assert!(items[0]["remote_id"].is_string());
    assert_eq!(get(addr, &format!("/api/v1/exports/{run_id}/items?status=lost"), "").await.status, 422);
    // The caller is told how the run went.
    let notifications = get(addr, "/api/v1/notifications", "").await.json();
    let summary = notifications["items"].as_array().unwrap().iter().find(|n| n["kind"] == "export_summary").cloned();
    let summary = summary.unwrap_or_else(|| panic!("no export summary in {notifications}"));
    assert_eq!(summary["body"], "1 products: 1 created, 0 updated, 0 unchanged, 0 failed, 0 skipped");
    assert_eq!(get(addr, "/api/v1/exports/platforms/nowhere", "").await.status, 404);
    let duplicate = request(addr, "POST", "/api/v1/exports/platforms", "", Some(&platform.to_string())).await;
    assert_eq!(duplicate.status, 409, "{}", duplicate.body);
    assert_eq!(request(addr, "DELETE", "/api/v1/exports/platforms/shop", "", None).await.status, 204);
    server.stop().await.unwrap();
    sdk.close().await;
}

async fn auth_over_http(backend: Backend) {
    let Some(mut env) = TestDatabases::named(backend, "auth_over_http").await else { return };
    env.config_mut().auth.lockout_threshold = 2;
    let sdk = env.sdk().await;
    let new_user = productsmanager_core::auth::NewUser {
        email: "ana@example.com".into(),
        display_name: None,
        password: "correct horse battery".into(),
        roles: vec!["viewer".into()],
    };
    sdk.auth().create_user(new_user).await.unwrap();
    let server = TestServer::start(sdk.clone()).await;
    let addr = server.addr;
    let login = r#"{"email": "ana@example.com", "password": "correct horse battery"}"#;

    let signed_in = request(addr, "POST", "/api/v1/auth/login", "", Some(login)).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    let tokens = signed_in.json();
    assert_eq!((tokens["token_type"].as_str(), tokens["expires_in"].as_u64()), (Some("Bearer"), Some(900)));
    let who = sdk.auth().authenticate(tokens["access_token"].as_str().unwrap()).await.unwrap();
    assert!(who.can("catalog:read"));

    // Refresh rotates; the spent token replayed is a 401 and ends the sign-in.
    let body = format!(r#"{{"refresh_token": {}}}"#, tokens["refresh_token"]);
    let refreshed = request(addr, "POST", "/api/v1/auth/refresh", "", Some(&body)).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let replayed = request(addr, "POST", "/api/v1/auth/refresh", "", Some(&body)).await;
    assert_eq!(replayed.status, 401, "{}", replayed.body);
    assert_eq!(replayed.header("content-type"), Some("application/problem+json"));
    let next = format!(r#"{{"refresh_token": {}}}"#, refreshed.json()["refresh_token"]);
    assert_eq!(request(addr, "POST", "/api/v1/auth/refresh", "", Some(&next)).await.status, 401);

    // Sign-out: 204, then the token is dead.
    let session = request(addr, "POST", "/api/v1/auth/login", "", Some(login)).await.json();
    let body = format!(r#"{{"refresh_token": {}}}"#, session["refresh_token"]);
    assert_eq!(request(addr, "POST", "/api/v1/auth/logout", "", Some(&body)).await.status, 204);
    assert_eq!(request(addr, "POST", "/api/v1/auth/refresh", "", Some(&body)).await.status, 401);

    // Bad bodies are 422 naming the field; unknown fields and SQL in strings included. Never 500.
    for (body, field) in [
        (r#"{"email": "ana@example.com"}"#, "password"),
        (r#"{"email": "ana@example.com", "password": "x", "admin": true}"#, "admin"),
        ("not json", "body"),
    ] {
        let refused = request(addr, "POST", "/api/v1/auth/login", "", Some(body)).await;
        assert_eq!(refused.status, 422, "{body}: {}", refused.body);
        assert!(refused.body.contains(field), "{body}: {}", refused.body);
    }
    let injected = r#"{"email": "' or 1=1 --", "password": "' or '1'='1"}"#;
    assert_eq!(request(addr, "POST", "/api/v1/auth/login", "", Some(injected)).await.status, 401);

    // Two wrong passwords lock the account (threshold 2 here): 429 with Retry-After.
    let wrong = r#"{"email": "ana@example.com", "password": "wrong wrong wrong"}"#;
    assert_eq!(request(addr, "POST", "/api/v1/auth/login", "", Some(wrong)).await.status, 401);
    assert_eq!(request(addr, "POST", "/api/v1/auth/login", "", Some(wrong)).await.status, 401);
    let locked = request(addr, "POST", "/api/v1/auth/login", "", Some(login)).await;
    assert_eq!(locked.status, 429, "{}", locked.body);
    assert_eq!(locked.header("retry-after"), Some("60"));
    server.stop().await.unwrap();
    sdk.close().await;
}

async fn settings_over_http(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "settings_over_http").await else { return };
    let sdk = env.sdk().await;
    let server = TestServer::start(sdk.clone()).await;
    let addr = server.addr;
    let all = get(addr, "/api/v1/settings", "").await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(all.json()[0]["key"], "analytics.raw_retention_days");
    let path = "/api/v1/settings/notifications.retention_days";
    let refused = request(addr, "PUT", path, "", Some(r#"{"value": 0}"#)).await;
    assert_eq!((refused.status, refused.json()["field"].as_str()), (422, Some("value")), "{}", refused.body);
    let unknown = request(addr, "PUT", "/api/v1/settings/nope", "", Some(r#"{"value": 1}"#)).await;
    assert_eq!(unknown.status, 404);
    let changed = request(addr, "PUT", path, "", Some(r#"{"value": 30}"#)).await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    let changed = changed.json();
    assert_eq!((changed["value"].as_i64(), changed["is_default"].as_bool()), (Some(30), Some(false)));
    assert!(changed["updated_by"].is_string(), "the admin who changed it: {changed}");
    assert_eq!(get(addr, path, "").await.json()["value"], 30);
    let reset = request(addr, "DELETE", path, "", None).await.json();
    assert_eq!((reset["value"].as_i64(), reset["is_default"].as_bool()), (Some(90), Some(true)));
    server.stop().await.unwrap();
    sdk.close().await;
}

/// Walks a listing page by page and answers every item's `field`, in the order served.
async fn walk(addr: common::Endpoint, path: &str, limit: u32, field: &str) -> Vec<String> {
    let (mut seen, mut cursor) = (Vec::new(), String::new());
    loop {
        let page = get(addr, &format!("{path}?limit={limit}&cursor={cursor}"), "").await;
        assert_eq!(page.status, 200, "{}", page.body);
        let page = page.json();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= limit as usize);
        seen.extend(items.iter().map(|item| item[field].as_str().unwrap().to_string()));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_string(),
            None => return seen,
        }
    }
}

async fn named_listings_page_by_name(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "named_listings_page_by_name").await else { return };
    let sdk = env.sdk().await;
    let server = TestServer::start(sdk.clone()).await;
    let addr = server.addr;
    // Mixed case and a tie on the name: the order is by name without case, then id, on both backends.
    for (code, name) in [("S1", "beta"), ("S2", "Alpha"), ("S3", "gamma"), ("S4", "Delta"), ("S5", "beta")] {
        let body = format!(r#"{{"code": "{code}", "name": "{name}"}}"#);
        assert_eq!(request(addr, "POST", "/api/v1/suppliers", "", Some(&body)).await.status, 201);
    }
    let names = walk(addr, "/api/v1/suppliers", 2, "name").await;
    assert_eq!(names, ["Alpha", "beta", "beta", "Delta", "gamma"]);
    // A write between two pages: what was already served is not served again.
    let first = get(addr, "/api/v1/suppliers?limit=2", "").await.json();
    let body = r#"{"code": "S0", "name": "Aardvark"}"#;
    assert_eq!(request(addr, "POST", "/api/v1/suppliers", "", Some(body)).await.status, 201);
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = get(addr, &format!("/api/v1/suppliers?limit=10&cursor={cursor}"), "").await.json();
    let rest: Vec<&str> = rest["items"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(rest, ["beta", "Delta", "gamma"]);

    for n in 0..3 {
        let body = format!(
            r#"{{"email": "user{n}@example.com", "display_name": "U{n}", "password": "a long enough password"}}"#
        );
        assert_eq!(request(addr, "POST", "/api/v1/users", "", Some(&body)).await.status, 201);
    }
    let emails = walk(addr, "/api/v1/users", 1, "email").await;
    assert_eq!(emails.len(), 4, "three users and the test admin: {emails:?}");
    assert!(emails.windows(2).all(|w| w[0].to_lowercase() <= w[1].to_lowercase()), "{emails:?}");

    for (path, status, field) in [
        ("/api/v1/brands?cursor=not-a-cursor", 422, "cursor"),
        ("/api/v1/brands?limit=0", 422, "limit"),
        ("/api/v1/taxonomies?limit=501", 422, "limit"),
        ("/api/v1/import-configs?page=2", 422, "page"),
    ] {
        let answer = get(addr, path, "").await;
        assert_eq!((answer.status, answer.json()["field"].as_str()), (status, Some(field)), "{path}: {}", answer.body);
    }
    server.stop().await.unwrap();
    sdk.close().await;
}

/// `/health/workers` tells a worker process that stopped (killed: no clean-up, its sign of life ages) and the
/// dead job it left behind (its lease expired on its last attempt), per queue with alerts.
async fn workers_health_reports_stopped_workers_and_dead_jobs(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "workers_health_stopped").await else { return };
    let sdk = env.sdk().await;
    let server = TestServer::start(sdk.clone()).await;
    let addr = server.addr;
    let catalog_queue = |body: &serde_json::Value| {
        body["queues"].as_array().unwrap().iter().find(|q| q["queue"] == "catalog").unwrap().clone()
    };
    let healthy = get(addr, "/health/workers", "").await.json();
    assert_eq!((healthy["status"].as_str(), catalog_queue(&healthy)["alerts"].clone()), (Some("ok"), json!([])));

    // A worker process on its own runtime, so it can be killed the way a crash kills one: every task gone at once.
    // It has its own SDK (its own pools, made on that runtime), as another process would: connections made there
    // die with it, and none of them is left in this SDK's pools.
    let doomed = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let config = env.config().clone();
    let _running = doomed.spawn(async move {
        let sdk = productsmanager_core::Sdk::builder(config).migrate(false).build().await.unwrap();
        let running = productsmanager_core::jobs::JobRunner::new(sdk.jobs(), "doomed-worker")
            .queue("catalog", 1)
            .handle("long_task", |_job| std::future::pending())
            .start();
        std::future::pending::<()>().await;
        drop((running, sdk));
    });
    let job = sdk
        .jobs()
        .enqueue(productsmanager_core::jobs::NewJob {
            queue: "catalog".into(),
            kind: "long_task".into(),
            max_attempts: Some(1),
            ..Default::default()
        })
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while sdk.jobs().get(job.id).await.unwrap().state != productsmanager_core::jobs::JobState::Running {
        assert!(std::time::Instant::now() < deadline, "the worker never took the job");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // The worker's registration and its first claim race each other: wait for both to be seen.
    loop {
        let working = catalog_queue(&get(addr, "/health/workers", "").await.json());
        if (working["workers"].as_u64(), working["running"].as_u64()) == (Some(1), Some(1)) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the worker is not seen working: {working}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    doomed.shutdown_background();
    // What the minute after the crash does: the process's last sign of life and the job's lease grow old.
    let past = chrono::Utc::now() - chrono::Duration::minutes(1);
    productsmanager_core::with_pool!(sdk.pool(Database::Catalog), |p| {
        sqlx::query("update job_workers set seen_at = $1 where worker = $2")
            .bind(past)
            .bind("doomed-worker")
            .execute(p)
            .await
            .unwrap();
        sqlx::query("update tasks set lease_expires_at = $1 where id = $2")
            .bind(past)
            .bind(job.id)
            .execute(p)
            .await
            .unwrap();
    });
    // Any live worker's reaper does this within a lease; the job was on its only attempt.
    assert_eq!(sdk.jobs().reap_expired().await.unwrap(), 1);
    let after = get(addr, "/health/workers", "").await.json();
    assert_eq!(after["status"], "attention", "{after}");
    let catalog = catalog_queue(&after);
    assert_eq!((catalog["workers"].as_u64(), catalog["running"].as_u64()), (Some(0), Some(0)), "{catalog}");
    assert_eq!((catalog["dead"].as_u64(), catalog["alerts"].clone()), (Some(1), json!(["dead_jobs"])));
    let dead = sdk.jobs().get(job.id).await.unwrap();
    assert_eq!(dead.last_error.as_deref(), Some("lease expired: the worker stopped"));

    // Work waiting with no live worker is the other alert.
    sdk.jobs()
        .enqueue(productsmanager_core::jobs::NewJob {
            queue: "catalog".into(),
            kind: "reindex".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let waiting = catalog_queue(&get(addr, "/health/workers", "").await.json());
    assert_eq!(waiting["alerts"], json!(["no_workers", "dead_jobs"]), "{waiting}");
    server.stop().await.unwrap();
    sdk.close().await;
}

/// The dashboards over HTTP: product reads through the API and request latencies become figures once rolled up;
/// the overview, completeness, searches and activity answer; bad periods are named.
async fn analytics_over_http(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "analytics_over_http").await else { return };
    let sdk = env.sdk().await;
    let server = TestServer::start(sdk.clone()).await;
    let addr = server.addr;
    let body = r#"{"gtin": "4006381333931", "sku": "PEN-1", "title": "Pen"}"#;
    let created = request(addr, "POST", "/api/v1/products", "", Some(body)).await;
    let id = created.json()["id"].as_str().unwrap().to_string();
    for key in ["PEN-1", id.as_str(), "4006381333931"] {
        assert_eq!(get(addr, &format!("/api/v1/products/{key}"), "").await.status, 200);
    }
    assert_eq!(get(addr, "/api/v1/products?q=pen", "").await.status, 200);
    assert_eq!(get(addr, "/api/v1/products?q=nothing-like-it", "").await.status, 200);
    sdk.analytics_events().flush().await;
    sdk.analytics().roll_up(chrono::Utc::now().date_naive()).await.unwrap();

    let metrics = get(addr, &format!("/api/v1/analytics/products/{id}/metrics?days=1"), "").await;
    assert_eq!(metrics.status, 200, "{}", metrics.body);
    assert_eq!(metrics.json()[0]["views"], 3, "{}", metrics.body);
    let performance = get(addr, "/api/v1/analytics/performance?period=hour", "").await.json();
    let route = performance.as_array().unwrap().iter().find(|r| r["name"] == "GET /api/v1/products/{key}").cloned();
    assert_eq!(route.map(|r| r["samples"].clone()), Some(json!(3)), "{performance}");
    let searches = get(addr, "/api/v1/analytics/searches?days=1", "").await.json();
    assert_eq!(searches["zero_results"][0]["query"], "nothing-like-it", "{searches}");
    // Both searches are the caller's.
    let by_someone: i64 = productsmanager_core::with_pool!(sdk.pool(Database::Analytics), |p| {
        sqlx::query_scalar("select count(*) from search_analytics where user_id is not null").fetch_one(p).await
    })
    .unwrap();
    assert_eq!(by_someone, 2);
    let overview = get(addr, "/api/v1/analytics/overview", "").await;
    assert_eq!((overview.status, overview.json()["products"].as_i64()), (200, Some(1)), "{}", overview.body);
    let incomplete = get(addr, "/api/v1/analytics/completeness?limit=10", "").await.json();
    assert_eq!(incomplete["items"][0]["missing"], json!(["brand", "category", "price", "images", "description"]));
    let live = get(addr, &format!("/api/v1/analytics/products/{id}/completeness"), "").await.json();
    assert_eq!(live["score"], 17, "{live}");
    let activity = get(addr, "/api/v1/analytics/activity?limit=5", "").await;
    assert_eq!(activity.status, 200, "{}", activity.body);
    for path in ["/api/v1/analytics/suppliers", "/api/v1/analytics/imports?days=7&jobs=5"] {
        assert_eq!(get(addr, path, "").await.status, 200, "{path}");
    }
    let bad = get(addr, "/api/v1/analytics/suppliers?days=0", "").await;
    assert_eq!((bad.status, bad.json()["field"].as_str()), (422, Some("days")));
    let bad = get(addr, "/api/v1/analytics/performance?period=week", "").await;
    assert_eq!((bad.status, bad.json()["field"].as_str()), (422, Some("period")));
    server.stop().await.unwrap();
    sdk.close().await;
}

/// The duplicates report, a merge, the merged product's id answering with the survivor, and the undo, over HTTP.
async fn duplicates_merge_and_undo_over_http(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "duplicates_merge_and_undo_over_http").await else { return };
    let sdk = env.sdk().await;
    let server = TestServer::start(sdk.clone()).await;
    let addr = server.addr;
    let survivor = r#"{"gtin": "4006381333931", "title": "Terracotta pot 20 cm"}"#;
    let survivor = request(addr, "POST", "/api/v1/products", "", Some(survivor)).await;
    assert_eq!(survivor.status, 201, "{}", survivor.body);
    let survivor = survivor.json()["id"].as_str().unwrap().to_string();
    let duplicate = r#"{"sku": "POT-20", "title": "Pot terracotta, 20cm"}"#;
    let duplicate = request(addr, "POST", "/api/v1/products", "", Some(duplicate)).await;
    let duplicate = duplicate.json()["id"].as_str().unwrap().to_string();

    let report = get(addr, "/api/v1/products/duplicates?min_score=0.9", "").await;
    assert_eq!(report.status, 200, "{}", report.body);
    let pairs = report.json();
    assert_eq!(pairs.as_array().map(Vec::len), Some(1), "{pairs}");
    let best = (pairs[0]["survivor"]["id"].as_str(), pairs[0]["score"].as_f64());
    assert_eq!(best, (Some(survivor.as_str()), Some(1.0)));
    let bad = get(addr, "/api/v1/products/duplicates?min_score=2", "").await;
    assert_eq!(bad.status, 422, "{}", bad.body);

    let merge_path = "/api/v1/products/4006381333931/merge";
    let merged = request(addr, "POST", merge_path, "", Some(r#"{"duplicate": "POT-20"}"#)).await;
    assert_eq!(merged.status, 201, "{}", merged.body);
    let merge = merged.json();
    assert_eq!(merge["filled"], json!(["sku"]), "{merge}");
    assert!(merge["merged_by"].is_string(), "the caller is recorded: {merge}");
    let merge_id = merge["id"].as_str().unwrap().to_string();
    let old = get(addr, &format!("/api/v1/products/{duplicate}"), "").await;
    assert_eq!((old.status, old.json()["id"].as_str()), (200, Some(survivor.as_str())), "{}", old.body);
    let location = old.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("content-location")).map(|(_, v)| v.clone());
    assert_eq!(location, Some(format!("/api/v1/products/{survivor}")));
    let by_sku = get(addr, "/api/v1/products/POT-20", "").await.json();
    assert_eq!(by_sku["id"].as_str(), Some(survivor.as_str()), "the SKU moved to the survivor");
    let again = request(addr, "POST", merge_path, "", Some(r#"{"duplicate": "POT-20"}"#)).await;
    assert_eq!(again.status, 422, "one product named twice: {}", again.body);
    let listed = get(addr, "/api/v1/product-merges?product=4006381333931", "").await.json();
    assert_eq!(listed[0]["id"].as_str(), Some(merge_id.as_str()), "{listed}");

    let undo = format!("/api/v1/product-merges/{merge_id}/undo");
    let undone = request(addr, "POST", &undo, "", None).await;
    assert_eq!(undone.status, 200, "{}", undone.body);
    assert!(undone.json()["undone_at"].is_string());
    let twice = request(addr, "POST", &undo, "", None).await;
    assert_eq!(twice.status, 409, "{}", twice.body);
    let back = get(addr, "/api/v1/products/POT-20", "").await.json();
    assert_eq!(back["id"].as_str(), Some(duplicate.as_str()), "{back}");
    server.stop().await.unwrap();
    sdk.close().await;
}

both_backends!(
    provenance_over_http,
    duplicates_merge_and_undo_over_http,
    analytics_over_http,
    workers_health_reports_stopped_workers_and_dead_jobs,
    exports_over_http,
    redis_health_and_readiness,
    named_listings_page_by_name,
    settings_over_http,
    auth_over_http,
    imports_over_http,
    import_configs_over_http,
    jobs_over_http,
    bad_catalog_input_is_named_never_500,
    relations_over_http,
    categories_over_http,
    listing_and_commerce_over_http,
    products_over_http,
    health_routes_report_seven_databases,
    one_database_down_gives_503_naming_it,
    an_optional_database_down_degrades_readiness,
    brands_over_http,
    suppliers_over_http
);

#[tokio::test]
async fn errors_are_problem_json_and_requests_carry_ids() {
    let env = TestDatabases::named(Backend::Sqlite, "problem json").await.unwrap();
    let sdk = env.sdk().await;
    let server = TestServer::start(sdk.clone()).await;

    let missing = get(server.addr, "/no/such/route", "").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.header("content-type"), Some("application/problem+json"));
    let problem = missing.json();
    assert_eq!(problem["type"], "urn:productsmanager:problem:not_found");
    assert_eq!(problem["status"], 404);
    assert!(problem["title"].is_string() && problem["detail"].is_string());

    // A request id is made up when the client sends none, and echoed when it does.
    let generated = missing.header("x-request-id").unwrap();
    assert_eq!(uuid::Uuid::parse_str(generated).unwrap().get_version_num(), 4);
    let echoed = get(server.addr, "/health", "x-request-id: trace-me-42\r\n").await;
    assert_eq!(echoed.header("x-request-id"), Some("trace-me-42"));

    server.stop().await.unwrap();
    sdk.close().await;
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_show_pools() {
    let env = TestDatabases::named(Backend::Sqlite, "metrics").await.unwrap();
    let sdk = env.sdk().await;
    let server = TestServer::start(sdk.clone()).await;
    for _ in 0..3 {
        assert_eq!(get(server.addr, "/health/db", "").await.status, 200);
    }
    let product = request(server.addr, "POST", "/api/v1/products", "", Some(r#"{"sku": "M1", "title": "m"}"#)).await;
    for _ in 0..2 {
        assert_eq!(
            get(server.addr, &format!("/api/v1/products/{}", product.json()["id"].as_str().unwrap()), "").await.status,
            200
        );
    }
    // An import run by a worker: its rows and the job's duration are recorded.
    let supplier = productsmanager_core::catalog::NewSupplier {
        code: "MET".into(),
        name: "Metrics".into(),
        default_currency: Some("EUR".into()),
        ..Default::default()
    };
    sdk.suppliers().create(supplier).await.unwrap();
    let csv = "sku,gtin,title,price\nMET-1,4006381333931,Metered,3.50\n";
    let queued =
        post_form(server.addr, "/api/v1/imports", &[("supplier", None, "MET"), ("file", Some("m.csv"), csv)]).await;
    assert_eq!(queued.status, 202, "{}", queued.body);
    let id = queued.json()["id"].as_str().unwrap().to_string();
    let workers = sdk.job_runner("metrics-imports", &["imports".to_string()]).unwrap().start();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while get(server.addr, &format!("/api/v1/imports/{id}"), "").await.json()["state"] != "succeeded" {
        assert!(std::time::Instant::now() < deadline, "the import did not end");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    workers.shutdown(std::time::Duration::from_secs(5)).await;

    let reply = get(server.addr, "/metrics", "").await;
    assert_eq!(reply.status, 200);
    assert!(reply.header("content-type").unwrap().starts_with("text/plain"));
    for name in [
        "import_rows_total{result=\"created\"}",
        "job_duration_seconds_bucket{",
        "jobs_queued{queue=\"imports\"}",
        "jobs_dead{queue=\"code2asin\"}",
        "job_workers{queue=\"media\"}",
        "jobs_oldest_queued_seconds{queue=\"exports\"}",
    ] {
        assert!(reply.body.contains(name), "no {name} in:\n{}", reply.body);
    }
    assert!(
        reply.body.lines().any(|l| l.starts_with("job_duration_seconds_count{")
            && l.contains("queue=\"imports\"")
            && l.contains("outcome=\"succeeded\"")),
        "no imports job duration:\n{}",
        reply.body
    );
    let text = reply.body;
    let requests = text
        .lines()
        .find(|l| {
            l.starts_with("http_requests_total{") && l.contains("route=\"/health/db\"") && l.contains("status=\"200\"")
        })
        .unwrap_or_else(|| panic!("no request counter for /health/db in:\n{text}"));
    // Other tests in this binary share the process-wide recorder, so at least our three.
    let count: f64 = requests.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(count >= 3.0, "{requests}");
    assert!(text.contains("http_request_duration_seconds_bucket{"), "no latency histogram:\n{text}");
    let cache_hit = text.lines().any(|l| {
        l.starts_with("cache_requests_total{")
            && l.contains("kind=\"products\"")
            && l.contains("result=\"hit\"")
            && l.contains("tier=\"l1\"")
    });
    assert!(cache_hit, "no L1 hit counter for products:\n{text}");
    for db in Database::ALL {
        let gauge = format!("db_pool_connections_max{{database=\"{}\"}}", db.name());
        assert!(text.contains(&gauge), "missing {gauge}");
    }
    // Issue 30: every family says what it is (`# HELP`), latencies are histograms (a summary cannot be added up
    // across processes), and the process and the build are described.
    let typed: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("# TYPE ")).collect();
    assert!(typed.len() > 20, "{text}");
    for line in &typed {
        let (name, kind) = line.split_once(' ').unwrap();
        assert_ne!(kind, "summary", "{name} is a summary");
        assert!(text.contains(&format!("# HELP {name} ")), "no # HELP for {name}");
    }
    for name in [
        "process_resident_memory_bytes ",
        "process_cpu_seconds_total ",
        "productsmanager_build_info{version=\"",
        "db_query_duration_seconds_bucket{",
        "db_up{database=\"catalog\"} 1",
    ] {
        assert!(text.contains(name), "no {name} in:\n{text}");
    }
    // The dashboard and the alert rules of deploy/ read only metrics the server exposes.
    let deploy = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy");
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(deploy.join("grafana/productsmanager.json")).unwrap()).unwrap();
    let mut expressions: Vec<String> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|panel| panel["targets"].as_array().unwrap().iter().map(|t| t["expr"].as_str().unwrap().to_string()))
        .collect();
    let alerts = std::fs::read_to_string(deploy.join("prometheus/alerts.yml")).unwrap();
    let rules: serde_json::Value = yaml_serde::from_str(&alerts).unwrap();
    for rule in rules["groups"][0]["rules"].as_array().unwrap() {
        expressions.push(rule["expr"].as_str().unwrap().to_string());
    }
    assert!(expressions.len() > 20, "{expressions:?}");
    for expression in &expressions {
        for name in common::promql_metric_names(expression) {
            let exposed = |family: &str| typed.iter().any(|line| line.split(' ').next() == Some(family));
            let family = ["_bucket", "_count", "_sum"]
                .iter()
                .find_map(|suffix| name.strip_suffix(suffix))
                .filter(|base| exposed(base));
            assert!(
                name == "up" || exposed(&name) || family.is_some(),
                "{name} (in `{expression}`) is not a metric /metrics exposes"
            );
        }
    }
    // Database operations timed per database (the ones this test surely ran: sign-in, products, imports).
    for db in [Database::Core, Database::Catalog, Database::Imports] {
        let histogram = format!("db_query_duration_seconds_count{{database=\"{}\"}}", db.name());
        assert!(text.contains(&histogram), "missing {histogram}:\n{text}");
    }
    server.stop().await.unwrap();
    sdk.close().await;
}

#[tokio::test]
async fn shutdown_lets_the_server_finish_cleanly() {
    let env = TestDatabases::named(Backend::Sqlite, "shutdown").await.unwrap();
    let sdk = env.sdk().await;
    let server = TestServer::start(sdk.clone()).await;
    let addr = server.addr;
    assert_eq!(get(addr, "/health", "").await.status, 200);
    server.stop().await.unwrap();
    assert!(TcpStream::connect(addr.socket).await.is_err(), "still accepting after shutdown");
    sdk.close().await;
}

/// Issue 30: the alert rules of deploy/prometheus are valid for Prometheus (`promtool check rules`, from Debian's
/// `prometheus` package, which scripts/test.sh installs); that they read only exposed metrics is checked with the
/// metrics above.
#[test]
fn alert_rules_pass_promtool() {
    let Some(promtool) = productsmanager_core::testing::server_program("promtool", "alert_rules_pass_promtool") else {
        return;
    };
    let rules = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/prometheus/alerts.yml");
    let output = std::process::Command::new(promtool).args(["check", "rules"]).arg(&rules).output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{said}");
    assert!(said.contains("SUCCESS: 7 rules found"), "{said}");
}
