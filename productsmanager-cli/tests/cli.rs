//! The `productsmanager` binary, run as a user runs it: fresh data folders, only the `PM_*` variables given.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use productsmanager_core::db::{Backend, Database};

mod common;
use common::{data_dir, productsmanager, start_server, stop_server, text};
use productsmanager_core::testing::TestDatabases;

fn run(vars: &[(&str, String)], args: &[&str]) -> Output {
    productsmanager(vars).args(args).output().unwrap()
}

#[test]
fn config_show_prints_the_effective_configuration_redacted() {
    let (_dir, mut vars) = data_dir();
    vars.push(("PM_DATABASE_URL", "postgres://pm:s3cret@db.example:5432/x".to_string()));
    vars.push(("PM_DB_CATALOG_POOL_SIZE", "42".to_string()));
    let output = run(&vars, &["config", "show"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let shown = text(&output.stdout);
    assert!(!shown.contains("s3cret"), "{shown}");
    assert!(shown.contains("postgres://pm:***@db.example:5432/x"), "{shown}");
    let parsed: toml::Table = toml::from_str(&shown).unwrap();
    assert_eq!(parsed["database"]["catalog"]["pool_size"].as_integer(), Some(42));

    let output = run(&vars, &["config", "show", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["http"]["addr"], "127.0.0.1:8080");
}

#[test]
fn bad_configuration_exits_3_naming_the_setting() {
    let (dir, vars) = data_dir();
    let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
        (vec![("PM_DB_CORE_POOL_SIZE", "0".to_string())], "database.core.pool_size"),
        (vec![("PM_DATABASE_URL", "postgres://[::1/x".to_string())], "database.url"),
        (vec![("PM_HTTP_ADRR", "127.0.0.1:1".to_string())], "PM_HTTP_ADRR"),
    ];
    for (extra, named) in cases {
        let mut all = vars.clone();
        all.extend(extra);
        let output = run(&all, &["config", "show"]);
        assert_eq!(output.status.code(), Some(3), "{named}");
        assert!(text(&output.stderr).contains(named), "{named}: {}", text(&output.stderr));
    }
    let file = dir.path().join("pm.toml");
    std::fs::write(&file, "[cache]\nl1_ttl = 5\n").unwrap();
    let output = run(&vars, &["--config", file.to_str().unwrap(), "config", "show"]);
    assert_eq!(output.status.code(), Some(3));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("cache") && stderr.contains("l1_ttl"), "{stderr}");

    // A data folder that cannot be created is refused when a command starts the SDK.
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, b"x").unwrap();
    let output = run(&[("PM_DATA_DIR", blocker.join("data").display().to_string())], &["migrate"]);
    assert_eq!(output.status.code(), Some(3));
    assert!(text(&output.stderr).contains("data_dir"), "{}", text(&output.stderr));
}

#[test]
fn migrate_then_status_shows_seven_current_databases() {
    let (_dir, vars) = data_dir();
    let output = run(&vars, &["migrate"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout).lines().count(), 7);
    // Twice is a no-op.
    let output = run(&vars, &["migrate", "--json"]);
    let applied: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(applied.as_array().unwrap().iter().all(|row| row["applied"] == 0), "{applied}");

    let output = run(&vars, &["migrate", "--status", "--json"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let statuses: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let statuses = statuses.as_array().unwrap();
    assert_eq!(statuses.len(), 7);
    assert!(statuses.iter().all(|s| s["state"] == "current" && s["backend"] == "sqlite"), "{statuses:?}");
    let output = run(&vars, &["migrate", "--status"]);
    let shown = text(&output.stdout);
    let line = shown.lines().find(|l| l.contains("code2asin")).unwrap();
    assert!(line.contains("sqlite") && line.contains("current"), "{shown}");
}

#[test]
fn health_exits_8_naming_the_database_that_is_down() {
    let (_dir, mut vars) = data_dir();
    let output = run(&vars, &["health"]);
    assert!(output.status.success(), "{}{}", text(&output.stdout), text(&output.stderr));
    assert_eq!(text(&output.stdout).lines().filter(|l| l.contains(" up ")).count(), 7);

    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    vars.push(("PM_DB_ANALYTICS_URL", format!("postgres://pm@127.0.0.1:{port}/pm_analytics")));
    vars.push(("PM_DB_CONNECT_TIMEOUT_SECS", "2".to_string()));
    let output = run(&vars, &["health", "--json"]);
    assert_eq!(output.status.code(), Some(8));
    assert!(text(&output.stderr).contains("analytics"), "{}", text(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let down: Vec<&str> = report["databases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["status"] == "down")
        .map(|d| d["database"].as_str().unwrap())
        .collect();
    assert_eq!(down, vec!["analytics"]);
}

#[test]
fn doctor_says_what_is_wrong_and_how_to_fix_it() {
    let (_dir, mut vars) = data_dir();
    assert!(run(&vars, &["migrate"]).status.success());
    let output = run(&vars, &["doctor", "--json"]);
    assert!(output.status.success(), "{}{}", text(&output.stdout), text(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["verdict"], "ok", "{report}");
    let checks: Vec<&str> =
        report["findings"].as_array().unwrap().iter().map(|f| f["check"].as_str().unwrap()).collect();
    for check in ["database catalog", "database analytics", "redis", "object store", "queue imports", "disk"] {
        assert!(checks.contains(&check), "{check} not checked: {checks:?}");
    }
    assert_eq!(checks.len(), 7 + 1 + 1 + 5 + 1);

    // Redis configured and not there: a warning with its fix, still exit 0. A database down: a failure, exit 8.
    let closed = || TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    vars.push(("PM_REDIS_URL", format!("redis://127.0.0.1:{}/", closed())));
    let output = run(&vars, &["doctor"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let shown = text(&output.stdout);
    let redis = shown.lines().find(|l| l.trim_start().starts_with("redis")).unwrap();
    assert!(redis.contains("WARN") && redis.contains("PM_REDIS_URL"), "{shown}");
    vars.push(("PM_DB_ANALYTICS_URL", format!("postgres://pm@127.0.0.1:{}/pm_analytics", closed())));
    vars.push(("PM_DB_CONNECT_TIMEOUT_SECS", "2".to_string()));
    let output = run(&vars, &["doctor"]);
    assert_eq!(output.status.code(), Some(8), "{}", text(&output.stdout));
    assert!(text(&output.stderr).contains("database analytics"), "{}", text(&output.stderr));
    let shown = text(&output.stdout);
    let analytics = shown.lines().find(|l| l.trim_start().starts_with("database analytics")).unwrap();
    assert!(analytics.contains("FAIL") && analytics.contains("PM_DB_ANALYTICS_URL"), "{shown}");
}

/// `Authorization` header line for an API key, if one is given.
fn bearer(key: &str) -> String {
    if key.is_empty() { String::new() } else { format!("Authorization: Bearer {key}\r\n") }
}

fn http_get(addr: &str, path: &str, key: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{}\r\n", bearer(key)).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split(' ').nth(1).unwrap().parse().unwrap();
    let body = response.split_once("\r\n\r\n").unwrap().1.to_string();
    (status, body)
}

fn http_post(addr: &str, path: &str, key: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        bearer(key),
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split(' ').nth(1).unwrap().parse().unwrap();
    let body = response.split_once("\r\n\r\n").unwrap().1.to_string();
    (status, body)
}

#[test]
fn serve_with_no_configuration_answers_health_db_with_seven_up() {
    let (dir, mut vars) = data_dir();
    vars.push(("PM_HTTP_ADDR", "127.0.0.1:0".to_string()));
    // An operator with an API key for the job routes, made with the CLI before the server starts.
    assert!(run(&vars, &["user", "create", "ops@example.com", "--role", "admin"]).status.success());
    let scopes = ["--scope", "jobs:read", "--scope", "jobs:manage"];
    let created = run(
        &vars,
        &[&["apikey", "create", "--user", "ops@example.com", "--name", "ops", "--json"][..], &scopes].concat(),
    );
    let key =
        serde_json::from_slice::<serde_json::Value>(&created.stdout).unwrap()["secret"].as_str().unwrap().to_string();
    let (child, addr) = start_server(&vars);
    let (status, body) = http_get(&addr, "/health/db", "");
    assert_eq!(status, 200, "{body}");
    let report: serde_json::Value = serde_json::from_str(&body).unwrap();
    let databases = report["databases"].as_array().unwrap();
    assert_eq!(databases.len(), 7);
    assert!(databases.iter().all(|d| d["status"] == "up" && d["backend"] == "sqlite"), "{body}");
    // `serve` runs the job workers too: a reindex job is picked up and done.
    let reindex = r#"{"queue": "catalog", "kind": "reindex"}"#;
    assert_eq!(http_post(&addr, "/api/v1/jobs", "", reindex).0, 401, "the API needs credentials");
    let (status, body) = http_post(&addr, "/api/v1/jobs", &key, reindex);
    assert_eq!(status, 201, "{body}");
    let id = serde_json::from_str::<serde_json::Value>(&body).unwrap()["id"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, body) = http_get(&addr, &format!("/api/v1/jobs/{id}"), &key);
        if body.contains("\"state\":\"succeeded\"") {
            break;
        }
        assert!(Instant::now() < deadline, "the job was not run: {body}");
        std::thread::sleep(Duration::from_millis(50));
    }
    stop_server(child);
    let output = run(&vars, &["jobs", "list", "--state", "succeeded", "--json"]);
    let jobs: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(jobs[0]["id"], id.as_str());
    assert!(text(&run(&vars, &["jobs", "get", &id]).stdout).contains("reindex"));
    assert_eq!(run(&vars, &["jobs", "pause", &id]).status.code(), Some(3));
    for db in Database::ALL {
        assert!(dir.path().join(format!("pm_{}.db", db.name())).is_file());
    }
}

#[tokio::test]
async fn serve_on_postgres_with_one_base_url() {
    let Some(env) = TestDatabases::named(Backend::Postgres, "serve_on_postgres_with_one_base_url").await else {
        return;
    };
    let config = env.config();
    let vars = vec![
        ("PM_DATA_DIR", env.folder().display().to_string()),
        ("PM_DATABASE_URL", config.database.url.clone().unwrap()),
        ("PM_DATABASE_PREFIX", config.database.prefix.clone()),
        ("PM_HTTP_ADDR", "127.0.0.1:0".to_string()),
    ];
    let (status, body) = tokio::task::spawn_blocking(move || {
        let (child, addr) = start_server(&vars);
        let reply = http_get(&addr, "/health/db", "");
        stop_server(child);
        reply
    })
    .await
    .unwrap();
    assert_eq!(status, 200, "{body}");
    let report: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(report["databases"].as_array().unwrap().iter().all(|d| d["backend"] == "postgres"), "{body}");
}

#[test]
fn brands_commands_print_json_for_scripts_and_tables_for_people() {
    let (_dir, vars) = data_dir();
    let output =
        run(&vars, &["brands", "create", "--json", r#"{"name": "Acme Tools", "website_url": "https://acme.example"}"#]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let created: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["slug"], "acme-tools");

    let output = run(&vars, &["brands", "get", "acme-tools", "--json"]);
    let fetched: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(fetched["id"], id.as_str());

    let output = run(&vars, &["brands", "update", &id, "--json", r#"{"description": "Hand tools"}"#]);
    let updated: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!((updated["description"].as_str(), updated["name"].as_str()), (Some("Hand tools"), Some("Acme Tools")));

    let output = run(&vars, &["brands", "list"]);
    let table = text(&output.stdout);
    assert!(table.lines().next().unwrap().contains("slug"), "{table}");
    assert!(table.contains("acme-tools") && table.contains("https://acme.example/"), "{table}");
    let output = run(&vars, &["brands", "list", "--json"]);
    let listed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);

    // Refusals: exit code by kind, message naming the field.
    let output = run(&vars, &["brands", "create", "--json", r#"{"name": "Other", "slug": "acme-tools"}"#]);
    assert_eq!(output.status.code(), Some(5));
    assert!(text(&output.stderr).contains("`slug`"), "{}", text(&output.stderr));
    let output = run(&vars, &["brands", "create", "--json", r#"{"name": 1}"#]);
    assert_eq!(output.status.code(), Some(3));
    assert!(text(&output.stderr).contains("`name`"), "{}", text(&output.stderr));
    let output = run(&vars, &["brands", "delete", "nope"]);
    assert_eq!(output.status.code(), Some(4), "a brand is named by id or slug: {}", text(&output.stderr));

    assert!(run(&vars, &["brands", "delete", &id]).status.success());
    assert_eq!(run(&vars, &["brands", "get", &id]).status.code(), Some(4));
}

#[test]
fn suppliers_commands() {
    let (_dir, vars) = data_dir();
    let output = run(&vars, &["suppliers", "create", "--json", r#"{"code": "ACME", "name": "Acme", "country": "fr"}"#]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let output = run(&vars, &["suppliers", "get", "ACME", "--json"]);
    let supplier: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(supplier["country"], "FR");
    let output = run(&vars, &["suppliers", "list"]);
    assert!(text(&output.stdout).contains("ACME"));
    let output =
        run(&vars, &["suppliers", "update", supplier["id"].as_str().unwrap(), "--json", r#"{"country": "XX"}"#]);
    assert_eq!(output.status.code(), Some(3));
    assert!(text(&output.stderr).contains("`country`"), "{}", text(&output.stderr));
}

#[test]
fn products_commands() {
    let (_dir, vars) = data_dir();
    let body = r#"{"gtin": "036000291452", "sku": "DRILL-1", "title": "Drill",
                   "attributes": [{"name": "voltage", "kind": "number", "value": 18, "unit": "V"}]}"#;
    let output = run(&vars, &["products", "create", "--json", body]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let created: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    for key in ["036000291452", "DRILL-1", id.as_str()] {
        let output = run(&vars, &["products", "get", key, "--json"]);
        let found: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(found["id"], id.as_str(), "{key}");
    }
    let output = run(&vars, &["products", "get", "DRILL-1"]);
    assert!(text(&output.stdout).contains("036000291452"), "{}", text(&output.stdout));
    let output = run(&vars, &["products", "update", &id, "--json", r#"{"status": "active", "version": 1}"#]);
    let updated: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!((updated["status"].as_str(), updated["version"].as_i64()), (Some("active"), Some(2)));
    let output = run(&vars, &["products", "update", &id, "--json", r#"{"title": "late", "version": 1}"#]);
    assert_eq!(output.status.code(), Some(5), "{}", text(&output.stderr));
    let output = run(&vars, &["products", "create", "--json", r#"{"gtin": "036000291453", "title": "x"}"#]);
    assert_eq!(output.status.code(), Some(3));
    assert!(text(&output.stderr).contains("`gtin`") && text(&output.stderr).contains("check digit"));
    assert!(run(&vars, &["products", "delete", &id]).status.success());
    assert_eq!(run(&vars, &["products", "get", "DRILL-1"]).status.code(), Some(4));
    assert!(run(&vars, &["products", "purge", &id]).status.success());
}

#[test]
fn analytics_commands_snapshot_list_and_roll_up() {
    let (_dir, vars) = data_dir();
    let body = r#"{"gtin": "036000291452", "sku": "DRILL-1", "title": "Drill"}"#;
    assert!(run(&vars, &["products", "create", "--json", body]).status.success());
    let output = run(&vars, &["analytics", "snapshot", "--json"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let overview: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!((overview["products"].as_i64(), overview["with_gtin"].as_i64()), (Some(1), Some(1)), "{overview}");
    let shown = text(&run(&vars, &["analytics", "overview"]).stdout);
    assert!(shown.starts_with("1 products as of"), "{shown}");
    let output = run(&vars, &["analytics", "incomplete", "--json"]);
    let page: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(page["items"][0]["sku"], "DRILL-1", "{page}");
    assert_eq!(page["items"][0]["missing"], serde_json::json!(["brand", "category", "price", "images", "description"]));
    let output = run(&vars, &["analytics", "incomplete", "--channel", "nowhere"]);
    assert_eq!(output.status.code(), Some(4), "{}", text(&output.stderr));
    let output = run(&vars, &["analytics", "rollup", "--json"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let reports: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(reports.as_array().map(Vec::len), Some(2), "{reports}");
}

#[test]
fn listing_offers_prices_and_stock_commands() {
    let (_dir, vars) = data_dir();
    let json_of = |args: &[&str]| -> serde_json::Value {
        let output = run(&vars, args);
        assert!(output.status.success(), "{args:?}: {}", text(&output.stderr));
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let supplier = json_of(&["suppliers", "create", "--json", r#"{"code": "S", "name": "S"}"#]);
    let brand = json_of(&["brands", "create", "--json", r#"{"name": "Acme"}"#]);
    let mut ids = Vec::new();
    for i in 0..3 {
        let body = format!(
            r#"{{"sku": "P{i}", "title": "Product {i}", "brand_id": {}}}"#,
            if i == 1 { format!("\"{}\"", brand["id"].as_str().unwrap()) } else { "null".into() }
        );
        ids.push(json_of(&["products", "create", "--json", &body])["id"].as_str().unwrap().to_string());
    }
    let price = format!(
        r#"{{"product_id": "{}", "price_type": "retail", "amount": {{"amount_minor": 2550, "currency": "EUR"}}}}"#,
        ids[1]
    );
    json_of(&["prices", "set", "--json", &price]);
    let offer = format!(
        r#"{{"product_id": "{}", "supplier_id": "{}", "supplier_sku": "S-1", "cost": {{"amount_minor": 990, "currency": "EUR"}}, "stock": 3}}"#,
        ids[1],
        supplier["id"].as_str().unwrap()
    );
    json_of(&["offers", "record", "--json", &offer]);
    json_of(&["stock", "set", "--json", &format!(r#"{{"product_id": "{}", "quantity": 4}}"#, ids[2])]);

    let page = json_of(&["products", "list", "--limit", "2", "--json"]);
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let rest =
        json_of(&["products", "list", "--limit", "2", "--cursor", page["next_cursor"].as_str().unwrap(), "--json"]);
    assert_eq!(rest["items"][0]["id"], ids[2].as_str());
    let filtered = json_of(&[
        "products",
        "list",
        "--brand",
        "acme",
        "--price-min",
        "25.00",
        "--currency",
        "EUR",
        "--in-stock",
        "--json",
    ]);
    assert_eq!(filtered["items"].as_array().unwrap().len(), 1);
    assert_eq!(filtered["items"][0]["id"], ids[1].as_str());
    let table = text(&run(&vars, &["products", "list", "--sort", "title", "--desc", "--limit", "1"]).stdout);
    assert!(table.contains("Product 2") && table.contains("more: --cursor"), "{table}");
    let output = run(&vars, &["products", "list", "--price-min", "1.234", "--currency", "EUR"]);
    assert_eq!(output.status.code(), Some(3));
    assert!(text(&output.stderr).contains("price_min"), "{}", text(&output.stderr));

    let found = json_of(&["products", "search", "product 1", "--json"]);
    assert_eq!(found["items"][0]["id"], ids[1].as_str());
    let found = json_of(&["products", "search", "product", "--brand", "acme", "--json"]);
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    assert!(text(&run(&vars, &["products", "search", "S-1"]).stdout).contains("Product 1"));
    assert_eq!(text(&run(&vars, &["products", "reindex"]).stdout).trim(), "3 products indexed");
    let offers = text(&run(&vars, &["offers", "list", "P1"]).stdout);
    assert!(offers.contains("9.90 EUR") && offers.contains('*'), "{offers}");
    assert_eq!(json_of(&["prices", "list", "P1", "--current", "--json"])[0]["amount"]["amount_minor"], 2550);
    assert_eq!(json_of(&["stock", "list", "P2", "--json"])[0]["quantity"], 4);
}

#[test]
fn categories_commands_and_tree() {
    let (_dir, vars) = data_dir();
    let json_of = |args: &[&str]| -> serde_json::Value {
        let output = run(&vars, args);
        assert!(output.status.success(), "{args:?}: {}", text(&output.stderr));
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let tools = json_of(&["categories", "create", "--json", r#"{"name": "Tools"}"#]);
    let tools_id = tools["id"].as_str().unwrap();
    let drills =
        json_of(&["categories", "create", "--json", &format!(r#"{{"name": "Drills", "parent_id": "{tools_id}"}}"#)]);
    let drills_id = drills["id"].as_str().unwrap();
    let tree = text(&run(&vars, &["categories", "tree"]).stdout);
    assert!(tree.contains("Tools") && tree.contains("  Drills"), "{tree}");
    let shown = text(&run(&vars, &["categories", "get", drills_id]).stdout);
    assert!(shown.contains("Tools > Drills"), "{shown}");
    assert_eq!(json_of(&["categories", "list", "--json"]).as_array().unwrap().len(), 2);
    let output =
        run(&vars, &["categories", "update", tools_id, "--json", &format!(r#"{{"parent_id": "{drills_id}"}}"#)]);
    assert_eq!(output.status.code(), Some(3));
    assert!(text(&output.stderr).contains("cycle"), "{}", text(&output.stderr));
    json_of(&["products", "create", "--json", r#"{"sku": "D1", "title": "Drill"}"#]);
    assert!(run(&vars, &["categories", "link", "D1", drills_id, "--primary"]).status.success());
    let listed = json_of(&["products", "list", "--category", tools_id, "--json"]);
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(run(&vars, &["categories", "delete", drills_id]).status.code(), Some(5));
    assert!(run(&vars, &["categories", "unlink", "D1", drills_id]).status.success());
    assert!(run(&vars, &["categories", "delete", drills_id]).status.success());
}

#[test]
fn variants_bundles_and_seo_commands() {
    let (_dir, vars) = data_dir();
    let json_of = |args: &[&str]| -> serde_json::Value {
        let output = run(&vars, args);
        assert!(output.status.success(), "{args:?}: {}", text(&output.stderr));
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let mut ids = Vec::new();
    for sku in ["SHIRT", "SHIRT-S", "KIT"] {
        ids.push(
            json_of(&["products", "create", "--json", &format!(r#"{{"sku": "{sku}", "title": "{sku}"}}"#)])["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    json_of(&[
        "variants",
        "set",
        "--json",
        &format!(r#"{{"parent_product_id": "{}", "product_id": "{}", "options": {{"size": "S"}}}}"#, ids[0], ids[1]),
    ]);
    assert!(text(&run(&vars, &["variants", "list", "SHIRT"]).stdout).contains("size=S"));
    json_of(&["bundles", "set", "KIT", "--json", &format!(r#"[{{"product_id": "{}", "quantity": 3}}]"#, ids[1])]);
    assert_eq!(json_of(&["bundles", "get", "KIT", "--json"])["items"][0]["quantity"], 3);
    assert_eq!(run(&vars, &["bundles", "get", "SHIRT"]).status.code(), Some(4));
    json_of(&["seo", "set", "--json", &format!(r#"{{"product_id": "{}", "locale": "de", "slug": "hemd"}}"#, ids[0])]);
    assert!(text(&run(&vars, &["seo", "list", "SHIRT"]).stdout).contains("hemd"));
    assert!(run(&vars, &["variants", "remove", "SHIRT-S"]).status.success());
    assert!(run(&vars, &["bundles", "remove", "KIT"]).status.success());
}

#[test]
fn imports_commands_configure_a_folder_and_poll_it() {
    let (_dir, mut vars) = data_dir();
    let output = run(&vars, &["suppliers", "create", "--json", r#"{"code": "DROP", "name": "Drop"}"#]);
    let supplier: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let drops = tempfile::tempdir().unwrap();
    let drop = drops.path().join("drop");
    std::fs::create_dir_all(&drop).unwrap();
    let config = serde_json::json!({
        "name": "drop folder", "supplier_id": supplier["id"], "source_kind": "folder",
        "source_settings": { "path": drop },
    });
    // Folder sources are off until an administrator says where they may look.
    let output = run(&vars, &["imports", "configs", "create", "--json", &config.to_string()]);
    assert_eq!(output.status.code(), Some(3));
    assert!(text(&output.stderr).contains("PM_IMPORTS_FOLDER_ROOTS"), "{}", text(&output.stderr));
    vars.push(("PM_IMPORTS_FOLDER_ROOTS", drops.path().display().to_string()));
    let output = run(&vars, &["imports", "configs", "create", "--json", &config.to_string()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let created: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let id = created["id"].as_str().unwrap();
    let listed = text(&run(&vars, &["imports", "configs", "list"]).stdout);
    assert!(listed.contains("drop folder") && listed.contains("folder"), "{listed}");

    // A folder configuration is watched, not scheduled: refused, naming why.
    let output = run(&vars, &["imports", "schedules", "add", id, "--cron", "0 6 * * *"]);
    assert_eq!(output.status.code(), Some(3));
    assert!(text(&output.stderr).contains("only ftp, ftps, email and http"), "{}", text(&output.stderr));

    std::fs::write(drop.join("prices.csv"), "sku;price\nD1;3,00\n").unwrap();
    let output = run(&vars, &["imports", "poll", "--kind", "folder", "--json"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let taken: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(taken[0]["file"]["name"], "prices.csv");
    assert_eq!(taken[0]["job"]["queue"], "imports");
    assert!(drop.join("processed/prices.csv").exists());
    let files = text(&run(&vars, &["imports", "files", id]).stdout);
    assert!(files.contains("prices.csv"), "{files}");
}

#[test]
fn a_product_shows_its_provenance_and_keeps_a_locked_field() {
    let (dir, vars) = data_dir();
    let output = run(
        &vars,
        &["suppliers", "create", "--json", r#"{"code": "ACME", "name": "Acme", "default_currency": "EUR"}"#],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let file = dir.path().join("acme.csv");
    std::fs::write(&file, "sku;gtin;title;price\nA1;4006381333931;Pot;9,90\n").unwrap();
    assert!(run(&vars, &["import", file.to_str().unwrap(), "--supplier", "ACME"]).status.success());
    let shown = text(&run(&vars, &["products", "get", "4006381333931", "--provenance"]).stdout);
    assert!(shown.contains("Acme (supplier), import "), "{shown}");
    let output = run(&vars, &["products", "field", "4006381333931", "title", "lock"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("locked"), "{}", text(&output.stdout));
    let output = run(&vars, &["products", "field", "4006381333931", "colour", "lock"]);
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));

    std::fs::write(&file, "sku;gtin;title;price\nA1;4006381333931;Renamed pot;9,90\n").unwrap();
    let output = run(&vars, &["import", file.to_str().unwrap(), "--supplier", "ACME", "--json"]);
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["fields_kept"], 1, "{summary}");
    let product = run(&vars, &["products", "get", "4006381333931", "--provenance", "--json"]);
    let product: serde_json::Value = serde_json::from_slice(&product.stdout).unwrap();
    assert_eq!(product["product"]["title"], "Pot");
    let title = product["provenance"].as_array().unwrap().iter().find(|f| f["field"] == "title").unwrap();
    assert_eq!((title["locked"].as_bool(), title["source"]["kind"].as_str()), (Some(true), Some("supplier")));
    let history = run(&vars, &["products", "history", "4006381333931"]);
    assert!(history.status.success(), "{}", text(&history.stderr));
    let table = text(&history.stdout);
    assert!(table.contains("title") && table.contains("lock"), "the lock is in the history: {table}");
    assert!(!table.contains("Renamed pot"), "the locked title did not change: {table}");
}

#[test]
fn duplicates_are_listed_merged_and_unmerged() {
    let (_dir, vars) = data_dir();
    for product in [
        r#"{"gtin": "4006381333931", "title": "Terracotta pot 20 cm"}"#,
        r#"{"sku": "POT-20", "title": "Pot terracotta, 20cm", "description": "Frost-proof"}"#,
    ] {
        let output = run(&vars, &["products", "create", "--json", product]);
        assert!(output.status.success(), "{}", text(&output.stderr));
    }
    let listed = run(&vars, &["products", "duplicates"]);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let table = text(&listed.stdout);
    assert!(table.contains("1.00") && table.contains("4006381333931") && table.contains("Pot terracotta"), "{table}");

    let merged = run(&vars, &["products", "merge", "4006381333931", "POT-20"]);
    assert!(merged.status.success(), "{}", text(&merged.stderr));
    let said = text(&merged.stdout);
    assert!(said.contains("filled from it: description, sku"), "{said}");
    let undo = said.lines().find_map(|l| l.strip_prefix("undo (within 30 days): productsmanager products unmerge "));
    let merge_id = undo.unwrap_or_else(|| panic!("{said}")).trim().to_string();
    let found = run(&vars, &["products", "get", "POT-20", "--json"]);
    let found: serde_json::Value = serde_json::from_slice(&found.stdout).unwrap();
    assert_eq!((found["gtin"].as_str(), found["description"].as_str()), (Some("4006381333931"), Some("Frost-proof")));
    let none = run(&vars, &["products", "duplicates", "--json"]);
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&none.stdout).unwrap(), serde_json::json!([]));
    let merges = run(&vars, &["products", "merges", "--product", "4006381333931", "--json"]);
    let merges: serde_json::Value = serde_json::from_slice(&merges.stdout).unwrap();
    assert_eq!(merges[0]["id"].as_str(), Some(merge_id.as_str()), "{merges}");

    let unmerged = run(&vars, &["products", "unmerge", &merge_id]);
    assert!(unmerged.status.success(), "{}", text(&unmerged.stderr));
    assert!(text(&unmerged.stdout).contains("is a product of its own again"), "{}", text(&unmerged.stdout));
    let twice = run(&vars, &["products", "unmerge", &merge_id]);
    assert_eq!(twice.status.code(), Some(5), "a conflict: {}", text(&twice.stderr));
    let back = run(&vars, &["products", "get", "POT-20", "--json"]);
    let back: serde_json::Value = serde_json::from_slice(&back.stdout).unwrap();
    assert_eq!(back["gtin"], serde_json::Value::Null, "{back}");
}

#[test]
fn import_file_prints_a_summary_and_writes_the_refused_rows() {
    let (dir, vars) = data_dir();
    let output = run(
        &vars,
        &["suppliers", "create", "--json", r#"{"code": "ACME", "name": "Acme", "default_currency": "EUR"}"#],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let file = dir.path().join("acme.csv");
    std::fs::write(&file, "sku;gtin;title;price\nA1;4006381333931;Pot;9,90\nA2;4006381333932;Pan;5\nA3;;Lid;2\n")
        .unwrap();
    let errors = dir.path().join("refused.csv");
    let file_arg = file.to_str().unwrap();
    let errors_arg = errors.to_str().unwrap();
    let output = run(&vars, &["import", file_arg, "--supplier", "ACME", "--errors", errors_arg, "--json"]);
    // A row refused: the summary is written, and the exit says it was not a clean import.
    assert_eq!(output.status.code(), Some(9), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("1 of 3 rows refused"), "{}", text(&output.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        [&summary["rows"], &summary["created"], &summary["updated"], &summary["unchanged"], &summary["invalid"]],
        [3, 2, 0, 0, 1]
    );
    assert_eq!(
        (&summary["outcome"], &summary["products_created"]),
        (&"completed_with_errors".into(), &2.into()),
        "{summary}"
    );
    assert!(summary["job_id"].is_string());
    let refused = std::fs::read_to_string(&errors).unwrap();
    assert!(refused.contains("3,2,gtin,4006381333932,invalid_gtin"), "{refused}");

    // People get tables; a dry run of a changed file shows the field that would change.
    std::fs::write(&file, "sku;gtin;title;price\nA1;4006381333931;Pot;10,90\nA3;;Lid;2\n").unwrap();
    let output = run(&vars, &["import", file_arg, "--supplier", "ACME", "--dry-run"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let shown = text(&output.stdout);
    assert!(shown.contains("dry run, nothing written"), "{shown}");
    assert!(shown.contains("price:retail:EUR") && shown.contains("990") && shown.contains("1090"), "{shown}");
    // Every row refused: exit 3, and the job list says so.
    std::fs::write(&file, "sku;gtin;title;price\nB1;4006381333932;Pan;5\n").unwrap();
    let output = run(&vars, &["import", file_arg, "--supplier", "ACME", "--errors", errors_arg]);
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("failed: every row was refused"), "{}", text(&output.stdout));
    let jobs = text(&run(&vars, &["imports", "jobs", "--supplier", "ACME"]).stdout);
    assert_eq!(
        (
            jobs.matches("completed_with_errors").count(),
            jobs.matches("succeeded").count(),
            jobs.matches("failed").count()
        ),
        (1, 1, 1),
        "{jobs}"
    );

    // A stored template by name; a header that does not match fails with exit 3, naming the columns.
    let template = dir.path().join("template.json");
    std::fs::write(
        &template,
        r#"{"columns": [{"column": "Ref", "to": "supplier_sku"}, {"column": "Name", "to": "title"}]}"#,
    )
    .unwrap();
    let output = run(&vars, &["imports", "templates", "save", "acme", "--file", template.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let output = run(&vars, &["import", file_arg, "--supplier", "ACME", "--template", "acme@1"]);
    assert_eq!(output.status.code(), Some(3));
    let message = text(&output.stderr);
    assert!(message.contains(r#"missing columns: "Ref", "Name""#), "{message}");
    let listed = text(&run(&vars, &["imports", "templates", "list"]).stdout);
    assert!(listed.contains("acme"), "{listed}");
}

/// The subcommands listed by `productsmanager <path> --help`, each as its full path.
fn subcommands(vars: &[(&str, String)], path: &[String]) -> Vec<Vec<String>> {
    let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
    args.push("--help");
    let help = text(&run(vars, &args).stdout);
    let listed = help.split("Commands:\n").nth(1).unwrap_or_default();
    listed
        .lines()
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(|name| path.iter().cloned().chain([name.to_string()]).collect())
        .collect()
}

/// Runs the binary with its standard output already closed by its reader (`… | head -0`).
fn run_into_closed_pipe(vars: &[(&str, String)], args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    productsmanager(vars).args(args).stdout(writer).output().unwrap()
}

/// Commands without `--json`: servers, and those that print only a confirmation line, a CSV or a file.
const WITHOUT_JSON: &[&str] = &[
    "serve",
    "worker",
    "completions",
    "man",
    "export platform delete",
    "export download",
    "imports errors",
    "code2asin config delete",
    "brands delete",
    "suppliers delete",
    "categories delete",
    "categories link",
    "categories unlink",
    "products reindex",
    "products delete",
    "products purge",
    "user set-password",
    "user activate",
    "user deactivate",
    "user grant",
    "user revoke",
    "role create",
    "role delete",
    "apikey revoke",
    "variants remove",
    "bundles remove",
    "media qrcode",
    "media delete",
    "settings set",
    "settings reset",
];

/// Issue 30: no panic is reachable from the arguments or a closed pipe. Every subcommand's `--help`, and commands
/// that print, with their output closed: nothing panics; a command whose reader went away ends quietly (SIGPIPE,
/// as other command-line tools do).
#[test]
fn no_subcommand_panics_on_help_or_a_closed_pipe() {
    let (_dir, vars) = data_dir();
    let mut paths = vec![Vec::new()];
    let mut walked = 0;
    while let Some(path) = paths.pop() {
        walked += 1;
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        for output in [run(&vars, &args), run_into_closed_pipe(&vars, &args)] {
            let stderr = text(&output.stderr);
            assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        }
        let below = subcommands(&vars, &path);
        // Every command that prints a record or a list prints it as JSON with `--json` (those that print only a
        // confirmation line, a CSV or a file, and the servers, are the exceptions).
        let command = path.join(" ");
        if below.is_empty() && !WITHOUT_JSON.contains(&command.as_str()) {
            let help = text(&run(&vars, &args).stdout);
            assert!(help.contains("--json"), "`{command}` has no --json");
        }
        paths.extend(below);
    }
    assert!(walked > 80, "only {walked} commands and subcommands");
    let body = r#"{"code": "PIPE", "name": "Pipe"}"#;
    assert!(run(&vars, &["suppliers", "create", "--json", body]).status.success());
    for args in [
        &["gtin", "check", "4006381333931"][..],
        &["suppliers", "list"],
        &["suppliers", "list", "--json"],
        &["config", "show"],
        &["brands", "list", "--json"],
        &["settings", "list"],
    ] {
        let output = run_into_closed_pipe(&vars, args);
        let stderr = text(&output.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        use std::os::unix::process::ExitStatusExt;
        assert!(output.status.success() || output.status.signal() == Some(13), "{args:?}: {:?}", output.status);
    }
}

/// Issue 27, finding 10: a killed `import` left its job running (then dead, raising the dead-jobs alert), and the
/// rerun imported the file again from the top. Now the rerun of the same file takes the stopped job over and
/// resumes after its checkpoint: one job, succeeded, every row once.
#[test]
fn a_killed_import_is_resumed_by_its_rerun() {
    let (dir, vars) = data_dir();
    let output = run(
        &vars,
        &["suppliers", "create", "--json", r#"{"code": "BULK", "name": "Bulk", "default_currency": "EUR"}"#],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let rows = 400_000;
    let mut csv = String::from("sku;gtin;title;price\n");
    for n in 0..rows {
        csv.push_str(&format!("B{n};;Bulk item {n};{}.{:02}\n", 1 + n % 90, n % 100));
    }
    let file = dir.path().join("bulk.csv");
    std::fs::write(&file, csv).unwrap();
    let args = ["import", file.to_str().unwrap(), "--supplier", "BULK", "--json"];
    let jobs = |vars: &[(&str, String)]| -> Vec<serde_json::Value> {
        let output = run(vars, &["imports", "jobs", "--supplier", "BULK", "--json"]);
        serde_json::from_slice::<Vec<serde_json::Value>>(&output.stdout).unwrap_or_default()
    };

    // Killed once two batches are written (a busy machine is slow, not wrong: up to five minutes).
    let mut child = productsmanager(&vars).args(args).stdout(std::process::Stdio::null()).spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    loop {
        let read = jobs(&vars).first().and_then(|job| job["progress"]["rows_read"].as_i64()).unwrap_or(0);
        if read >= 10_000 {
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "the import ended before it could be killed");
        assert!(std::time::Instant::now() < deadline, "the import made no progress");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let stopped = jobs(&vars);
    assert_eq!((stopped.len(), stopped[0]["state"].as_str()), (1, Some("running")), "{stopped:?}");

    let output = run(&vars, &args);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["job_id"], stopped[0]["id"], "the stopped job was taken over: {summary}");
    assert!(summary["resumed_after_line"].as_u64().is_some_and(|line| line > 1), "{summary}");
    let after = jobs(&vars);
    assert_eq!((after.len(), after[0]["state"].as_str()), (1, Some("succeeded")), "{after:?}");
    assert_eq!((summary["rows"].as_i64(), summary["products_created"].as_i64()), (Some(rows), Some(rows)), "{summary}");
    let output = run(&vars, &["analytics", "snapshot", "--json"]);
    let snapshot: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_default();
    assert_eq!(snapshot["products"].as_i64(), Some(rows), "every row once: {snapshot}");
}

/// Runs the binary with `stdin` as its standard input.
fn run_with_input(vars: &[(&str, String)], args: &[&str], stdin: &str) -> Output {
    let mut child = productsmanager(vars)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn user_and_role_commands() {
    let (_dir, vars) = data_dir();
    // A password from standard input, never from the command line.
    let output = run_with_input(
        &vars,
        &[
            "user",
            "create",
            "ana@example.com",
            "--name",
            "Ana",
            "--role",
            "catalog_manager",
            "--password-stdin",
            "--json",
        ],
        "correct horse battery\n",
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let ana: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(ana["email"], "ana@example.com");
    assert!(ana.get("generated_password").is_none());
    // Without one, a password is generated and shown once.
    let output = run(&vars, &["user", "create", "bob@example.com", "--json"]);
    let bob: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(bob["generated_password"].as_str().unwrap().len() >= 20);

    let output = run(&vars, &["role", "create", "auditor", "--permission", "analytics:read"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let output = run(&vars, &["user", "grant", "BOB@example.com", "auditor"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let output = run(&vars, &["user", "list", "--json"]);
    let users: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let roles: Vec<&serde_json::Value> = users.as_array().unwrap().iter().map(|u| &u["roles"]).collect();
    assert_eq!(roles, [&serde_json::json!(["catalog_manager"]), &serde_json::json!(["auditor"])]);
    let output = run(&vars, &["user", "revoke", "bob@example.com", "auditor"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(run(&vars, &["user", "revoke", "bob@example.com", "auditor"]).status.code(), Some(4));

    let output = run(&vars, &["role", "list"]);
    assert!(text(&output.stdout).contains("catalog_manager"), "{}", text(&output.stdout));
    assert_eq!(run(&vars, &["role", "delete", "admin"]).status.code(), Some(5));
    assert_eq!(run(&vars, &["user", "grant", "nobody@example.com", "viewer"]).status.code(), Some(4));

    // Bad input exits 3 naming the field; nothing is created.
    let output = run_with_input(&vars, &["user", "create", "carol@example.com", "--password-stdin"], "short\n");
    assert_eq!(output.status.code(), Some(3));
    assert!(text(&output.stderr).contains("password"), "{}", text(&output.stderr));
    let output = run_with_input(&vars, &["user", "set-password", "ana@example.com", "--password-stdin"], "x\n");
    assert_eq!(output.status.code(), Some(3));
    // API keys: the secret printed once, never listed; revoked by id.
    let output = run(
        &vars,
        &["apikey", "create", "--user", "ana@example.com", "--name", "sync", "--scope", "catalog:read", "--json"],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let key: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let secret = key["secret"].as_str().unwrap();
    assert!(secret.starts_with("pmk_"), "{secret}");
    let output = run(&vars, &["apikey", "list", "--user", "ana@example.com"]);
    assert!(text(&output.stdout).contains("sync") && !text(&output.stdout).contains(secret));
    let output =
        run(&vars, &["apikey", "create", "--user", "ana@example.com", "--name", "x", "--scope", "catalog:nuke"]);
    assert_eq!(output.status.code(), Some(3));
    let output = run(&vars, &["apikey", "revoke", key["id"].as_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(run(&vars, &["apikey", "revoke", key["id"].as_str().unwrap()]).status.code(), Some(4));
    let output = run(&vars, &["user", "deactivate", "ana@example.com"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let output = run(&vars, &["user", "list", "--json"]);
    let users: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(users.as_array().unwrap().len(), 2);
    assert_eq!(users[0]["is_active"], false);
}

/// Writes through the CLI are in the activity log (command names only, the exit code, the OS user); reads are not.
#[test]
fn cli_writes_are_recorded_in_the_activity_log() {
    let (dir, vars) = data_dir();
    assert!(run(&vars, &["brands", "create", "--json", r#"{"name": "Acme"}"#]).status.success());
    assert_eq!(run(&vars, &["brands", "create", "--json", r#"{"name": "Acme"}"#]).status.code(), Some(5));
    assert!(run(&vars, &["brands", "list"]).status.success());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let log = runtime.block_on(async {
        let sdk = productsmanager_core::Sdk::builder(productsmanager_core::Config::embedded(dir.path())).build().await;
        let sdk = sdk.unwrap();
        let log = sdk.activity().recent(None, 10).await.unwrap();
        sdk.close().await;
        log
    });
    let seen: Vec<_> = log.iter().rev().map(|a| (a.action.as_str(), a.status_code)).collect();
    assert_eq!(seen, [("cli brands create", Some(0)), ("cli brands create", Some(5))]);
    assert!(log[0].details.as_ref().unwrap()["pid"].is_u64());
    assert_eq!(log[0].user_id, None);
}

#[test]
fn settings_commands_change_and_reset_a_setting() {
    let (_dir, vars) = data_dir();
    assert!(text(&run(&vars, &["settings", "list"]).stdout).contains("imports.default_preset"));
    let refused = run(&vars, &["settings", "set", "imports.default_preset", "excel"]);
    assert_eq!(refused.status.code(), Some(3), "{}", text(&refused.stderr));
    assert!(text(&refused.stderr).contains("not one of"), "{}", text(&refused.stderr));
    assert!(run(&vars, &["settings", "set", "imports.default_preset", "shopify"]).status.success());
    assert!(run(&vars, &["settings", "set", "notifications.retention_days", "30"]).status.success());
    let shown: serde_json::Value =
        serde_json::from_slice(&run(&vars, &["settings", "get", "imports.default_preset", "--json"]).stdout).unwrap();
    assert_eq!((shown["value"].as_str(), shown["is_default"].as_bool()), (Some("shopify"), Some(false)));
    assert!(text(&run(&vars, &["settings", "reset", "imports.default_preset"]).stdout).contains("native"));
    assert_eq!(run(&vars, &["settings", "get", "nope"]).status.code(), Some(4));
}

/// `media upload --wait --json` stores an image and lists its thumbnails; `media list`, `media qrcode`; bad files
/// exit 3 naming the problem (a 200 MB file without being read).
#[test]
fn media_commands() {
    let (dir, vars) = data_dir();
    let body = r#"{"sku": "SHOE-1", "gtin": "4006381333931", "title": "Trail shoe"}"#;
    assert!(run(&vars, &["products", "create", "--json", body]).status.success());
    let photo = dir.path().join("front.jpg");
    let image = image::RgbImage::from_fn(1000, 500, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 0]));
    image.save_with_format(&photo, image::ImageFormat::Jpeg).unwrap();

    let output = run(&vars, &["media", "upload", "SHOE-1", photo.to_str().unwrap(), "--wait", "--json"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let upload: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(upload["created"], true);
    let sizes: Vec<(&str, i64)> = upload["file"]["thumbnails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["size"].as_str().unwrap(), t["width"].as_i64().unwrap()))
        .collect();
    assert_eq!(sizes, [("small", 150), ("medium", 300), ("large", 800)]);
    let output = run(&vars, &["media", "list", "4006381333931", "--json"]);
    let listed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(listed[0]["id"], upload["file"]["id"]);

    let qr = dir.path().join("shoe-qr.svg");
    let output = run(&vars, &["media", "qrcode", "SHOE-1", "--out", qr.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(std::fs::read_to_string(&qr).unwrap().contains("<svg"));
    assert!(text(&output.stdout).contains("https://id.gs1.org/01/04006381333931"), "{}", text(&output.stdout));

    let fake = dir.path().join("fake.jpg");
    std::fs::write(&fake, "sku;price\n").unwrap();
    let output = run(&vars, &["media", "upload", "SHOE-1", fake.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(3));
    assert!(text(&output.stderr).contains("not a JPEG, PNG or WebP"), "{}", text(&output.stderr));
    let huge = dir.path().join("huge.jpg");
    std::fs::File::create(&huge).unwrap().set_len(200 << 20).unwrap();
    let output = run(&vars, &["media", "upload", "SHOE-1", huge.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(3));
    assert!(text(&output.stderr).contains("media.max_upload_bytes"), "{}", text(&output.stderr));
    let output = run(&vars, &["media", "list", "SHOE-1", "--json"]);
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap().as_array().unwrap().len(), 1);
}

/// `gtin check`: the JSON of a valid, a restricted and a broken code, with no data folder at all.
#[test]
fn gtin_check_says_what_a_code_is() {
    let json_of = |code: &str| {
        let output = run(&[], &["gtin", "check", code, "--json"]);
        let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        (output.status.code(), value)
    };
    let (status, isbn) = json_of("0-306-40615-2");
    assert_eq!(status, Some(0));
    assert_eq!(
        (isbn["valid"].as_bool(), isbn["gtin14"].as_str(), isbn["kind"].as_str(), isbn["restricted"].as_bool()),
        (Some(true), Some("09780306406157"), Some("ISBN-10"), Some(false))
    );
    let (status, in_store) = json_of("2001234567893");
    assert_eq!((status, in_store["restricted"].as_bool()), (Some(0), Some(true)));
    assert!(in_store["reason"].as_str().unwrap().contains("in-store"), "{in_store}");
    let (status, broken) = json_of("4006381333932");
    assert_eq!((status, broken["valid"].as_bool(), broken["gtin14"].is_null()), (Some(3), Some(false), true));
    assert!(broken["reason"].as_str().unwrap().contains("expected 1"), "{broken}");
    let output = run(&[], &["gtin", "check", "036000291452"]);
    assert!(text(&output.stdout).contains("valid UPC-A, GTIN-14 00036000291452"), "{}", text(&output.stdout));
}

/// EAN-13 of 12 digits with its check digit.
fn ean13(body: &str) -> String {
    let sum: u32 =
        body.bytes().rev().enumerate().map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 }).sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

#[test]
fn code2asin_run_is_resumed_after_a_kill() {
    use productsmanager_fakes::sp_api::{Credentials, FakeItem, FakeSpApi};
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let codes: Vec<String> = (0..200).map(|i| ean13(&format!("400638{i:06}"))).collect();
    let catalog = codes
        .iter()
        .step_by(2)
        .enumerate()
        .map(|(i, code)| FakeItem {
            asin: format!("B0{i:08}"),
            gtin14: format!("0{code}"),
            brand: "Acme".into(),
            title: format!("Widget {i}"),
            sales_rank: None,
        })
        .collect();
    let credentials = Credentials {
        client_id: "amzn1.application-oa2-client.c".into(),
        client_secret: "sec".into(),
        refresh_token: "Atzr|c".into(),
    };
    let fake = runtime.block_on(FakeSpApi::start(credentials, catalog)).unwrap();
    let (dir, mut vars) = data_dir();
    vars.push(("SP_API_CLIENT_SECRET", "sec".into()));
    vars.push(("SP_API_REFRESH_TOKEN", "Atzr|c".into()));
    let endpoint = format!("{}/", fake.base_url);
    let token = format!("{}/auth/o2/token", fake.base_url);
    let added = run(
        &vars,
        &[
            "code2asin",
            "config",
            "add",
            "--name",
            "FR",
            "--marketplace",
            "FR",
            "--client-id",
            "amzn1.application-oa2-client.c",
            "--endpoint",
            &endpoint,
            "--token-endpoint",
            &token,
        ],
    );
    assert!(added.status.success(), "{}", text(&added.stderr));
    let file = dir.path().join("codes.csv");
    std::fs::write(&file, format!("sku;ean\n{}", codes.iter().map(|c| format!("S;{c}\n")).collect::<String>()))
        .unwrap();
    let args = ["code2asin", "run", "--file", file.to_str().unwrap(), "--marketplace", "FR", "--json"];

    // Killed once the first window of 100 codes (5 calls) is committed and the second has started.
    let mut child = productsmanager(&vars).args(args).spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while fake.requests().len() < 7 {
        assert!(std::time::Instant::now() < deadline, "the run made no progress");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let output = run(&vars, &args);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let job: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(job["state"], "succeeded");
    assert_eq!((job["counts"]["processed"].as_i64(), job["counts"]["matched"].as_i64()), (Some(200), Some(100)));
    let mut sent: Vec<String> =
        fake.requests().iter().filter(|r| r.status == 200).flat_map(|r| r.identifiers.clone()).collect();
    sent.sort();
    let distinct = {
        let mut d = sent.clone();
        d.dedup();
        d
    };
    assert_eq!(distinct.len(), 200, "no code lost");
    assert!(sent.len() - distinct.len() <= 20, "at most the call in flight at the kill is repeated");
    // Paced at Amazon's rate, before and after the kill: a 429 comes only from arrival jitter on a loaded machine
    // (two calls delayed into one another), a handful at most; each is retried (no code lost, above).
    let throttled = fake.requests().iter().filter(|r| r.status == 429).count();
    assert!(throttled <= 3, "{throttled} calls answered 429: the pace was not kept");
    let output = run(&vars, &["code2asin", "items", job["id"].as_str().unwrap(), "--outcome", "not_found", "--json"]);
    let items: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(items.as_array().unwrap().len(), 100);
}

#[test]
fn export_file_writes_a_feed_without_any_platform() {
    let (dir, vars) = data_dir();
    two_pans(&vars, dir.path(), "draft");

    let feed = dir.path().join("feed.xml");
    let feed_arg = feed.to_str().unwrap();
    let args =
        ["export", "file", "--format", "google-merchant-xml", "--out", feed_arg, "--markup-percent", "10", "--json"];
    let output = run(&vars, &args);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!([&summary["products"], &summary["items"], &summary["skipped"]], [2, 1, 1], "{summary}");
    let xml = std::fs::read_to_string(&feed).unwrap();
    assert!(xml.contains("<g:price>10.89 EUR</g:price>"), "{xml}");

    // People get a table; a format that does not exist is a usage error naming the formats.
    let csv = dir.path().join("feed.csv");
    let output = run(&vars, &["export", "file", "--format", "shopify-csv", "--out", csv.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("shopify-csv"));
    assert!(std::fs::read_to_string(&csv).unwrap().starts_with("Handle,Title,Body (HTML),Vendor"));
    let output = run(&vars, &["export", "file", "--format", "pdf", "--out", "x.pdf"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("google-merchant-tsv"));
    // A folder that does not exist: exit 3 naming the path.
    let output = run(&vars, &["export", "file", "--format", "csv", "--out", "/nonexistent-folder/feed.csv"]);
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("/nonexistent-folder"));
}

#[test]
fn export_run_pushes_to_a_platform_then_only_what_changed() {
    use productsmanager_fakes::woocommerce::FakeWooCommerce;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let shop = runtime.block_on(FakeWooCommerce::start("ck_cli", "cs_cli")).unwrap();
    let (dir, mut vars) = data_dir();
    let (pot, _) = two_pans(&vars, dir.path(), "active");

    // The key and secret come from the environment, never from the command line.
    let add =
        ["export", "platform", "add", "--name", "shop", "--platform", "woocommerce", "--endpoint", &shop.base_url];
    let output = run(&vars, &add);
    assert_eq!(output.status.code(), Some(3), "no credentials: {}", text(&output.stderr));
    vars.push(("WOOCOMMERCE_KEY", "ck_cli".into()));
    vars.push(("WOOCOMMERCE_SECRET", "cs_cli".into()));
    let output = run(&vars, &add);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(!text(&output.stdout).contains("cs_cli"));

    let output = run(&vars, &["export", "run", "shop", "--json"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let job: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!((job["items_created"].as_i64(), job["items_failed"].as_i64()), (Some(2), Some(0)), "{job}");
    assert_eq!(shop.by_sku(&pot).unwrap()["regular_price"], "9.90");
    // Nothing changed: the table says so and the shop got no write.
    let writes = shop.requests().iter().filter(|r| r.method != "GET").count();
    let output = run(&vars, &["export", "run", "shop"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("unchanged"), "{}", text(&output.stdout));
    assert_eq!(shop.requests().iter().filter(|r| r.method != "GET").count(), writes);
    let items = run(&vars, &["export", "items", job["id"].as_str().unwrap(), "--status", "created", "--json"]);
    let items: serde_json::Value = serde_json::from_slice(&items.stdout).unwrap();
    assert_eq!(items.as_array().unwrap().len(), 2);
    let output = run(&vars, &["export", "run", "nowhere"]);
    assert_eq!(output.status.code(), Some(4));
    drop(runtime);
}

/// Supplier ACME and its file of two products imported: a pot (9.90, 4 in stock, active) and a pan (5.00, status
/// `pan_status`); their GTINs.
fn two_pans(vars: &[(&str, String)], dir: &std::path::Path, pan_status: &str) -> (String, String) {
    let output =
        run(vars, &["suppliers", "create", "--json", r#"{"code": "ACME", "name": "Acme", "default_currency": "EUR"}"#]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let file = dir.join("acme.csv");
    let (pot, pan) = (ean13("400638133393"), ean13("400638133394"));
    let rows =
        format!("sku;gtin;title;price;stock;status\nA1;{pot};Pot;9,90;4;active\nA2;{pan};Pan;5;1;{pan_status}\n");
    std::fs::write(&file, rows).unwrap();
    let output = run(vars, &["import", file.to_str().unwrap(), "--supplier", "ACME", "--json"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    (pot, pan)
}

/// Issue 30, CLI findings: records are named by id or by code/name wherever a command takes one; `--config` is the
/// configuration file's everywhere (`code2asin run --config <id>` panicked); `jobs list` without `--queue` lists
/// every queue; a missing import file is "not found" (exit 4), a PDF is named a PDF; a clean rerun removes the
/// previous run's errors file; exported files are readable as any file of the user's; counts are grouped by
/// thousands for people and raw in `--json`.
#[test]
fn records_are_named_by_key_and_commands_say_what_they_did() {
    let (dir, vars) = data_dir();
    let json_of = |args: &[&str]| -> serde_json::Value {
        let output = run(&vars, args);
        assert!(output.status.success(), "{args:?}: {}", text(&output.stderr));
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let supplier =
        json_of(&["suppliers", "create", "--json", r#"{"code": "WOO", "name": "Woo", "default_currency": "EUR"}"#]);
    json_of(&["brands", "create", "--json", r#"{"name": "Acme Tools"}"#]);

    // Update and delete by code or slug, as `get` always did.
    assert_eq!(json_of(&["suppliers", "update", "WOO", "--json", r#"{"country": "fr"}"#])["country"], "FR");
    assert_eq!(
        json_of(&["brands", "update", "acme-tools", "--json", r#"{"website_url": "https://acme.example"}"#])["name"],
        "Acme Tools"
    );
    assert!(run(&vars, &["brands", "delete", "acme-tools"]).status.success());
    assert_eq!(run(&vars, &["brands", "get", "acme-tools"]).status.code(), Some(4));

    // `--config` is the configuration file's, also after `code2asin run`; the Amazon configuration has its own
    // flag and is named by id or name.
    for args in [
        &["code2asin", "run", "--file", "codes.csv", "--marketplace", "FR", "--config", "FR"][..],
        &["--config", "/nonexistent.toml", "code2asin", "run", "--file", "codes.csv", "--marketplace", "FR"],
    ] {
        let output = run(&vars, args);
        let stderr = text(&output.stderr);
        assert!(!stderr.contains("panicked") && output.status.code() != Some(101), "{args:?}: {stderr}");
    }
    let codes = dir.path().join("codes.csv");
    std::fs::write(&codes, "ean\n4006381333931\n").unwrap();
    let output = run(
        &vars,
        &["code2asin", "run", "--file", codes.to_str().unwrap(), "--marketplace", "FR", "--amazon-config", "main"],
    );
    assert_eq!(output.status.code(), Some(4), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("Amazon API configuration main not found"), "{}", text(&output.stderr));

    // Import sources by name: a schedule added and listed by the configuration's name.
    let ftp = serde_json::json!({
        "name": "nightly ftp", "supplier_id": supplier["id"], "source_kind": "ftp",
        "source_settings": { "host": "127.0.0.1", "port": 2121, "path": "/out" },
    });
    json_of(&["imports", "configs", "create", "--json", &ftp.to_string()]);
    assert_eq!(json_of(&["imports", "configs", "get", "nightly ftp", "--json"])["name"], "nightly ftp");
    let added = json_of(&["imports", "schedules", "add", "nightly ftp", "--cron", "0 6 * * *", "--json"]);
    assert_eq!(added.as_array().map(Vec::len), Some(1), "{added}");
    assert_eq!(json_of(&["imports", "schedules", "list", "nightly ftp", "--json"]).as_array().unwrap().len(), 1);

    // A shop export's SKU names its product; 1,200 rows are counted for people with a separator.
    let file = dir.path().join("woo.csv");
    let mut csv = String::from("sku;title;price\nwoo-beanie;Beanie;18,00\n");
    for n in 1..1200 {
        csv.push_str(&format!("woo-{n};Item {n};{n},00\n"));
    }
    std::fs::write(&file, &csv).unwrap();
    let errors = dir.path().join("woo.csv.errors.csv");
    std::fs::write(&errors, "an earlier run's errors").unwrap();
    let output = productsmanager(&vars)
        .current_dir(dir.path())
        .args(["import", file.to_str().unwrap(), "--supplier", "WOO"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let summary = text(&output.stdout);
    assert!(summary.contains("1,200"), "{summary}");
    assert!(summary.contains("removed") && !errors.exists(), "the earlier errors file is gone: {summary}");
    let beanie = json_of(&["products", "get", "woo-beanie", "--json"]);
    assert_eq!(beanie["title"], "Beanie");
    let job = json_of(&["imports", "jobs", "--json"])[0]["id"].as_str().unwrap().to_string();
    assert_eq!(json_of(&["imports", "job", &job, "--json"])["outcome"], "succeeded");
    assert!(text(&run(&vars, &["imports", "job", &job]).stdout).contains("1,200"));
    let all = json_of(&["jobs", "list", "--json"]);
    assert!(all.as_array().unwrap().iter().any(|j| j["id"] == job.as_str()), "jobs list without --queue: {all}");

    // A missing file is not found (exit 4), naming it; a PDF is named a PDF.
    let output = run(&vars, &["import", "/nonexistent/prices.csv", "--supplier", "WOO"]);
    assert_eq!(output.status.code(), Some(4), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("/nonexistent/prices.csv"), "{}", text(&output.stderr));
    let pdf = dir.path().join("catalog.csv");
    std::fs::write(&pdf, b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n1 0 obj\n").unwrap();
    let output = run(&vars, &["import", pdf.to_str().unwrap(), "--supplier", "WOO"]);
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("this is a PDF document"), "{}", text(&output.stderr));

    // An exported file gets the mode of any new file of the user's (umask 022: 0644), not 0600.
    let out = dir.path().join("export.csv");
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "umask 022; exec {} export file --format csv --out {}",
            env!("CARGO_BIN_EXE_productsmanager"),
            out.display()
        ))
        .envs(vars.iter().map(|(k, v)| (*k, v.as_str())))
        .env("PM_LOG", "warn")
        .status()
        .unwrap();
    assert!(status.success());
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o644);
}

/// Issue 30: `serve` on a busy port stops before anything else (no admin created with a password shown for
/// nothing), naming the address and the setting; with JSON logs every line it writes is JSON, the one-time
/// password included.
#[test]
fn serve_names_a_busy_address_and_keeps_json_logs_json() {
    let (_dir, mut vars) = data_dir();
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    vars.push(("PM_HTTP_ADDR", addr.clone()));
    let output = run(&vars, &["serve"]);
    assert_eq!(output.status.code(), Some(8), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(stderr.contains(&addr) && stderr.contains("PM_HTTP_ADDR"), "{stderr}");
    assert!(!stderr.contains("created the first admin"), "{stderr}");
    drop(busy);

    vars.retain(|(key, _)| *key != "PM_HTTP_ADDR");
    vars.push(("PM_HTTP_ADDR", "127.0.0.1:0".to_string()));
    vars.push(("PM_LOG_FORMAT", "json".to_string()));
    vars.push(("PM_LOG", "info".to_string()));
    let mut child = productsmanager(&vars).arg("serve").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = Vec::new();
    for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)).map_while(Result::ok) {
        let serving = line.contains("\"serving\"");
        lines.push(line);
        if serving {
            break;
        }
    }
    child.kill().unwrap();
    let mut stdout = String::new();
    child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    child.wait().unwrap();
    assert!(lines.iter().all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()), "{lines:#?}");
    assert!(lines.iter().any(|l| l.contains("\"password\"") && l.contains("first admin")), "{lines:#?}");
    assert!(stdout.trim().is_empty(), "nothing but JSON on the log stream, nothing on stdout: {stdout}");
}

/// Issue 30: shell completions and man pages, generated from the command definitions, even with a broken
/// configuration.
#[test]
fn completions_and_man_pages_are_generated() {
    let (dir, mut vars) = data_dir();
    vars.push(("PM_DATABASE_PREFIX", "Not A Prefix!".to_string()));
    for shell in ["bash", "zsh", "fish"] {
        let output = run(&vars, &["completions", shell]);
        assert!(output.status.success(), "{shell}: {}", text(&output.stderr));
        let script = text(&output.stdout);
        assert!(script.contains("productsmanager") && script.contains("code2asin"), "{shell}: {script}");
    }
    let out = dir.path().join("man");
    let output = run(&vars, &["man", "--out", out.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    for page in ["productsmanager.1", "productsmanager-import.1", "productsmanager-code2asin-run.1"] {
        assert!(out.join(page).is_file(), "{page}: {}", text(&output.stdout));
    }
    let import = std::fs::read_to_string(out.join("productsmanager-import.1")).unwrap();
    assert!(import.contains(".TH") && import.contains("supplier"), "{import}");
}
