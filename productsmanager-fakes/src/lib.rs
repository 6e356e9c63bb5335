//! Local fakes of the external APIs, on 127.0.0.1, following their documented wire formats closely enough that a
//! client that works against them works against the real thing: the same paths, parameters, headers, limits, error
//! bodies. Each fake records what it was asked and can be told to fail.

pub mod creators;
pub mod prestashop;
pub mod shopify;
pub mod sp_api;
pub mod woocommerce;

use std::net::SocketAddr;

/// Serves `app` on a free port of 127.0.0.1 until the process ends; returns `127.0.0.1:<port>`.
pub(crate) async fn serve(app: axum::Router) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(address)
}
