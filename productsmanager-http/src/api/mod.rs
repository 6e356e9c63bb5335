//! `/api/v1`: the catalog and the other domains, one module per resource. Handlers parse, call one SDK method and
//! render; rules live in the core.

mod auth;
mod brands;
mod categories;
mod commerce;
mod extract;
mod imports;
mod jobs;
mod notifications;
mod products;
mod relations;
mod settings;
mod suppliers;
mod users;

use productsmanager_core::config::HttpConfig;
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

pub(crate) use extract::{ApiJson, ApiQuery, Caller, Client};

/// Every `/api/v1` route, with its OpenAPI operation.
pub(crate) fn routes(http: &HttpConfig) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(auth::routes())
        .merge(brands::routes())
        .merge(suppliers::routes())
        .merge(products::routes())
        .merge(commerce::routes())
        .merge(categories::routes())
        .merge(relations::routes())
        .merge(jobs::routes())
        .merge(imports::routes(http.max_upload_bytes))
        .merge(notifications::routes())
        .merge(settings::routes())
        .merge(users::routes())
}
