//! Embedding ProductsManager in a Rust program: build an SDK on a temporary folder (seven SQLite databases,
//! created and migrated on the spot), check its health, and shut it down.
//!
//! ```text
//! cargo run -p productsmanager-examples --example embed_minimal
//! ```

use productsmanager_core::db::HealthStatus;
use productsmanager_core::{Config, Sdk};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let folder = tempfile::tempdir()?;
    // Embedded defaults with our own data folder; `Config::load(None)` would read PM_CONFIG and PM_* instead.
    let config = Config::embedded(folder.path());
    let sdk = Sdk::builder(config).build().await?;

    let health = sdk.health().await;
    for db in &health.databases {
        println!("{:<10} {:<8} {:?} in {:.2} ms", db.database.name(), db.backend.to_string(), db.status, db.latency_ms);
    }
    sdk.close().await;

    if health.status != HealthStatus::Up {
        return Err(format!("databases down: {:?}", health.down()).into());
    }
    println!("all seven databases up in {}", folder.path().display());
    Ok(())
}
