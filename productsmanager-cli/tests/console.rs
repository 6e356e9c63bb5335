//! The web console end to end, in a real browser: `productsmanager serve` on 127.0.0.1 (embedded SQLite, and
//! PostgreSQL when configured), and Debian's chromium, headless, driven by playwright-core (`e2e/console.mjs`):
//! sign in, add a supplier, upload the WooCommerce sample CSV with its preset and a file with refused rows, watch
//! each import finish, read the counts and the refused rows, search a product as you type, set its price, see a
//! stale edit refused, merge two listings of one product from the duplicates page and undo it, check the phone
//! width, sign out. Screenshots go to `target/console-screenshots/<backend>/`.
//!
//! Needs `node`, `e2e/node_modules` (`npm ci` in `e2e/`) and `/usr/bin/chromium`; `scripts/test.sh` sets them up.
//! Without them the test says it was not run, unless `PM_TEST_REQUIRE_SERVICES=1` (then it fails).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use productsmanager_core::db::Backend;
use productsmanager_core::testing::TestDatabases;

mod common;
use common::{data_dir, start_server, stop_server};

const PASSWORD: &str = "console-e2e-password";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The browser and the driver, or why the test cannot run.
fn browser() -> Result<PathBuf, String> {
    let chromium = PathBuf::from(std::env::var("PM_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()));
    if !chromium.is_file() {
        return Err(format!("{} is missing (apt-get install chromium)", chromium.display()));
    }
    if !workspace().join("e2e/node_modules/playwright-core").is_dir() {
        return Err("e2e/node_modules is missing (cd e2e && npm ci)".into());
    }
    match Command::new("node").arg("--version").output() {
        Ok(output) if output.status.success() => Ok(chromium),
        _ => Err("node is not on the PATH".into()),
    }
}

fn required() -> bool {
    std::env::var("PM_TEST_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

/// The imports the script makes, with what each must show: our own WooCommerce-shaped file with two bad rows, and
/// the real WooCommerce sample when `../shared/datasets` is there.
fn imports() -> Vec<serde_json::Value> {
    let own = workspace().join("e2e/fixtures/woocommerce-with-errors.csv");
    // The blue mug of the file below, a second time without its GTIN: the duplicates page pairs them.
    let duplicate = workspace().join("e2e/fixtures/duplicate-mug.csv");
    // Line 4: "29,9O" is no price (column 9); line 5: "plenty" is no stock quantity (column 11).
    let mut imports = vec![
        serde_json::json!({ "file": duplicate, "preset": "woocommerce", "created": 1, "refused": 0 }),
        serde_json::json!({
            "file": own, "preset": "woocommerce", "created": 3, "refused": 2, "errors": [[4, 9], [5, 11]],
        }),
    ];
    let sample = workspace().join("../shared/datasets/woocommerce/sample_products.csv");
    if sample.is_file() {
        imports.insert(0, serde_json::json!({ "file": sample, "preset": "woocommerce", "created": 25, "refused": 0 }));
    } else {
        eprintln!(
            "NOT RUN: the real WooCommerce sample ({} does not exist); the console's own file is",
            sample.display()
        );
    }
    imports
}

fn run_console_script(backend: &str, vars: &[(&str, String)]) {
    let chromium = match browser() {
        Ok(chromium) => chromium,
        Err(why) if required() => panic!("the console's browser test cannot run: {why}"),
        Err(why) => {
            eprintln!("NOT RUN: the console's browser test ({why})");
            return;
        }
    };
    let mut vars = vars.to_vec();
    vars.extend([("PM_HTTP_ADDR", "127.0.0.1:0".to_string()), ("PM_ADMIN_PASSWORD", PASSWORD.to_string())]);
    let (server, addr) = start_server(&vars);
    let imports = imports();
    // (words, the first product found, one of its categories, whether it has variants)
    let search = if imports.len() == 3 {
        ("hoodie", "Hoodie", "Hoodies", true)
    } else {
        ("enamel", "Enamel mug, blue", "Mugs", false)
    };
    let config = serde_json::json!({
        "base": format!("http://{addr}"),
        "email": "admin@localhost",
        "password": PASSWORD,
        "chromium": chromium,
        "screenshots": workspace().join("target/console-screenshots").join(backend),
        "imports": imports,
        "search": search.0,
        "product": search.1,
        "category": search.2,
        "variants": search.3,
    });
    let status = Command::new("node")
        .arg(workspace().join("e2e/console.mjs"))
        .current_dir(workspace().join("e2e"))
        .env("PM_E2E", config.to_string())
        .status()
        .unwrap();
    stop_server(server);
    assert!(status.success(), "the console's browser test failed ({status}); its output is above");
}

#[test]
fn console_end_to_end_on_sqlite() {
    let (_dir, vars) = data_dir();
    run_console_script("sqlite", &vars);
}

#[tokio::test]
async fn console_end_to_end_on_postgres() {
    let Some(env) = TestDatabases::named(Backend::Postgres, "console_end_to_end").await else { return };
    let config = env.config();
    let vars = vec![
        ("PM_DATA_DIR", env.folder().display().to_string()),
        ("PM_DATABASE_URL", config.database.url.clone().unwrap()),
        ("PM_DATABASE_PREFIX", config.database.prefix.clone()),
    ];
    tokio::task::spawn_blocking(move || run_console_script("postgres", &vars)).await.unwrap();
}
