//! `productsmanager-http`: the HTTP server alone, configured like `productsmanager serve`
//! (`PM_CONFIG`, `PM_*`). The CLI's `serve` is the same server with the other commands beside it.

use productsmanager_core::{Config, Sdk};

/// The CLI's allocator (productsmanager-cli's main.rs says why).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::load(None)?;
    productsmanager_http::telemetry::init(&config)?;
    let listener = productsmanager_http::bind(&config).await?;
    let sdk = Sdk::builder(config).build().await?;
    let served = productsmanager_http::run_on(listener, sdk.clone()).await;
    sdk.close().await;
    Ok(served?)
}
