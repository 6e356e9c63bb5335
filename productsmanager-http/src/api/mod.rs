//! `/api/v1`: the catalog and the other domains, one module per resource. Handlers parse, call one SDK method and
//! render; rules live in the core.

mod auth;
mod brands;
mod categories;
mod commerce;
mod extract;
mod imports;
mod jobs;
mod products;
mod relations;
mod suppliers;

use axum::Router;

use crate::AppState;

pub(crate) use extract::{ApiJson, ApiQuery, Client};

/// Every `/api/v1` route.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .merge(auth::routes())
        .merge(brands::routes())
        .merge(suppliers::routes())
        .merge(products::routes())
        .merge(commerce::routes())
        .merge(categories::routes())
        .merge(relations::routes())
        .merge(jobs::routes())
        .merge(imports::routes())
}
