//! `/api/v1`: the catalog and the other domains, one module per resource. Handlers parse, call one SDK method and
//! render; rules live in the core.

mod analytics;
mod auth;
mod brands;
mod categories;
mod code2asin;
mod commerce;
mod exports;
mod extract;
mod imports;
mod jobs;
mod media;
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

/// `?limit=&cursor=` of a listing that pages in name order.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct PageParams {
    /// Page size: 50 by default, at most 500.
    #[serde(default)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    cursor: Option<String>,
}

impl PageParams {
    /// The page of `whole` these parameters ask for.
    pub(crate) fn page_of<T: productsmanager_core::catalog::Listed + Clone>(
        &self,
        whole: &[T],
    ) -> Result<productsmanager_core::catalog::Page<T>, crate::error::ApiError> {
        productsmanager_core::catalog::Page::of_listing(whole, self.limit, self.cursor.as_deref())
            .map_err(|e| productsmanager_core::Error::from(e).into())
    }
}

/// Every `/api/v1` route, with its OpenAPI operation.
pub(crate) fn routes(http: &HttpConfig, media_max_upload_bytes: u64) -> OpenApiRouter<AppState> {
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
        .merge(exports::routes())
        .merge(media::routes(media_max_upload_bytes))
        .merge(code2asin::routes())
        .merge(notifications::routes())
        .merge(settings::routes())
        .merge(users::routes())
        .merge(analytics::routes())
}
