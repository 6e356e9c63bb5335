//! `/api/v1/import-configs`: where supplier files come from (folder, FTP/FTPS, e-mail), their cron schedules and
//! the files they took (credentials go in, never out); `/api/v1/mapping-templates`; `/api/v1/imports`: files
//! uploaded (multipart) and queued for import, their jobs and refused rows.

use axum::Json;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use productsmanager_core::catalog::Page;
use productsmanager_core::imports::mapping::Preset;
use productsmanager_core::imports::{
    ImportConfig, ImportError, ImportFile, ImportJob, ImportOptions, ImportSchedule, MappingTemplate, NewImport,
    NewImportConfig, NewMappingTemplate,
};
use productsmanager_core::input::{parse_id, parse_json};
use serde::Deserialize;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiJson, ApiQuery, Caller, PageParams};
use crate::AppState;
use crate::error::{ApiError, payload_too_large};

pub(super) fn routes(max_upload_bytes: u64) -> OpenApiRouter<AppState> {
    let (schemas, paths, jobs_and_upload) = routes!(jobs, upload);
    let upload_limit = usize::try_from(max_upload_bytes).unwrap_or(usize::MAX);
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(config, delete_config))
        .routes(routes!(schedules, add_schedule))
        .routes(routes!(files))
        .routes(routes!(templates, save_template))
        .routes(routes!(template, delete_template))
        .routes((schemas, paths, jobs_and_upload.layer(DefaultBodyLimit::max(upload_limit))))
        .routes(routes!(job))
        .routes(routes!(errors_csv))
}

#[utoipa::path(get, path = "/api/v1/import-configs", tag = "imports", security(("bearer" = ["imports:read"])),
    params(PageParams),
    responses((status = 200, description = "A page of import configurations by name (credentials left out)", body = Page<ImportConfig>)))]
async fn list(
    State(state): State<AppState>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(page.page_of(&state.sdk.imports().configs().await?)?))
}

#[utoipa::path(post, path = "/api/v1/import-configs", tag = "imports", security(("bearer" = ["imports:sources"])), request_body = NewImportConfig,
    responses((status = 201, description = "Created; credentials are sealed and never answered", body = ImportConfig)))]
async fn create(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<NewImportConfig>,
) -> Result<impl IntoResponse, ApiError> {
    Ok((StatusCode::CREATED, Json(state.sdk.imports().create_config(input).await?)))
}

#[utoipa::path(get, path = "/api/v1/import-configs/{id}", tag = "imports", security(("bearer" = ["imports:read"])), params(("id" = Uuid, Path)),
    responses((status = 200, description = "The configuration", body = ImportConfig)))]
async fn config(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.imports().config(parse_id("id", &id)?).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewSchedule {
    cron: String,
    #[serde(default = "utc")]
    timezone: String,
}

fn utc() -> String {
    "UTC".to_string()
}

#[utoipa::path(get, path = "/api/v1/import-configs/{id}/schedules", tag = "imports", security(("bearer" = ["imports:read"])), params(("id" = Uuid, Path)),
    responses((status = 200, description = "The configuration's schedules", body = Vec<ImportSchedule>)))]
async fn schedules(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.imports().schedules(parse_id("id", &id)?).await?))
}

#[utoipa::path(post, path = "/api/v1/import-configs/{id}/schedules", tag = "imports", security(("bearer" = ["imports:run"])), params(("id" = Uuid, Path)),
    request_body = NewSchedule,
    responses((status = 201, description = "Scheduled", body = ImportSchedule)))]
async fn add_schedule(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<NewSchedule>,
) -> Result<impl IntoResponse, ApiError> {
    let schedule = state.sdk.imports().create_schedule(parse_id("id", &id)?, &input.cron, &input.timezone).await?;
    Ok((StatusCode::CREATED, Json(schedule)))
}

#[utoipa::path(get, path = "/api/v1/import-configs/{id}/files", tag = "imports", security(("bearer" = ["imports:read"])), params(("id" = Uuid, Path)),
    responses((status = 200, description = "Files taken from the configured source", body = Vec<ImportFile>)))]
async fn files(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.imports().files(parse_id("id", &id)?).await?))
}

#[utoipa::path(delete, path = "/api/v1/import-configs/{id}", tag = "imports", security(("bearer" = ["imports:sources"])), params(("id" = Uuid, Path)),
    responses((status = 204, description = "Deleted, with its schedules")))]
async fn delete_config(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    state.sdk.imports().delete_config(parse_id("id", &id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/mapping-templates", tag = "imports", security(("bearer" = ["imports:read"])),
    params(PageParams),
    responses((status = 200, description = "A page of mapping templates by name (latest versions)", body = Page<MappingTemplate>)))]
async fn templates(
    State(state): State<AppState>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(page.page_of(&state.sdk.imports().templates().await?)?))
}

#[utoipa::path(post, path = "/api/v1/mapping-templates", tag = "imports", security(("bearer" = ["imports:run"])), request_body = NewMappingTemplate,
    responses((status = 201, description = "Saved (a template of the same name gets a new version)", body = MappingTemplate)))]
async fn save_template(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<NewMappingTemplate>,
) -> Result<impl IntoResponse, ApiError> {
    Ok((StatusCode::CREATED, Json(state.sdk.imports().save_template(input).await?)))
}

#[utoipa::path(get, path = "/api/v1/mapping-templates/{id}", tag = "imports", security(("bearer" = ["imports:read"])), params(("id" = Uuid, Path)),
    responses((status = 200, description = "The template", body = MappingTemplate)))]
async fn template(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.imports().template(parse_id("id", &id)?).await?))
}

#[utoipa::path(delete, path = "/api/v1/mapping-templates/{id}", tag = "imports", security(("bearer" = ["imports:run"])), params(("id" = Uuid, Path)),
    responses((status = 204, description = "Deleted; configurations that used it fall back to the `native` preset")))]
async fn delete_template(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    state.sdk.imports().delete_template(parse_id("id", &id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct JobsQuery {
    /// One supplier's (id or code).
    #[serde(default)]
    supplier: Option<String>,
    /// Page size: 20 by default, at most 1000.
    #[serde(default = "twenty")]
    limit: u32,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    cursor: Option<String>,
}

fn twenty() -> u32 {
    20
}

#[utoipa::path(get, path = "/api/v1/imports", tag = "imports", security(("bearer" = ["imports:read"])), params(JobsQuery),
    responses((status = 200, description = "A page of import jobs, newest first", body = Page<ImportJob>)))]
async fn jobs(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<JobsQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let supplier = match &query.supplier {
        Some(key) => Some(state.sdk.suppliers().find(key).await?.id),
        None => None,
    };
    Ok(Json(state.sdk.imports().jobs_page(supplier, query.limit, query.cursor.as_deref()).await?))
}

#[utoipa::path(get, path = "/api/v1/imports/{id}", tag = "imports", security(("bearer" = ["imports:read"])), params(("id" = Uuid, Path)),
    responses((status = 200, description = "The import job: state, counters, timings", body = ImportJob)))]
async fn job(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.imports().job(parse_id("id", &id)?).await?))
}

#[utoipa::path(get, path = "/api/v1/imports/{id}/errors.csv", tag = "imports", security(("bearer" = ["imports:read"])), params(("id" = Uuid, Path)),
    responses((status = 200, description = "The refused rows: line, column, value, reason", body = String,
        content_type = "text/csv")))]
async fn errors_csv(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    let csv = state.sdk.imports().errors_csv(parse_id("id", &id)?).await?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv))
}

fn invalid(field: &str, reason: impl Into<String>) -> ApiError {
    ApiError(ImportError::invalid(field, reason).into())
}

/// The fields of the upload form (documentation only: the handler reads the stream field by field).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct UploadForm {
    /// The supplier file: CSV/TSV (any delimiter, UTF-8 or Windows-1252/ISO-8859), XLSX, XLS or ODS.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// The supplier's id or code.
    supplier: String,
    /// A mapping template: its id, its name (the latest version) or `name@version`.
    template: Option<String>,
    /// A built-in preset instead of a template: `native`, `woocommerce`, `shopify`, `prestashop`, `magento`,
    /// `akeneo`, `google_merchant`, `auto`.
    preset: Option<String>,
    /// Check and plan only; write nothing.
    dry_run: Option<bool>,
    /// Import even if the same file (by SHA-256) was imported before.
    force: Option<bool>,
    /// Import options as JSON (delimiter, encoding, sheet, header row…).
    options: Option<String>,
}

/// `multipart/form-data`: `file` (the file, with its name), `supplier` (id or code), and optionally `template`
/// (id, name or `name@version`), `preset`, `dry_run`, `force` (`true`/`false`), `options` (JSON). The file is streamed to disk, stored,
/// and its import queued: 202 with the job (poll `GET /api/v1/imports/{id}`).
#[utoipa::path(post, path = "/api/v1/imports", tag = "imports", security(("bearer" = ["imports:run"])),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 202, description = "Stored and queued; poll `GET /api/v1/imports/{id}` (a file imported before is \
        skipped unless `force`)", body = ImportJob)))]
async fn upload(
    State(state): State<AppState>,
    Caller(caller): Caller,
    mut form: Multipart,
) -> Result<Response, Response> {
    let upload_failed = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            payload_too_large(format!("{} (limit: http.max_upload_bytes)", e.body_text()))
        } else {
            invalid("file", e.body_text()).into_response()
        }
    };
    let spool = tempfile::NamedTempFile::new().map_err(|e| invalid("file", format!("cannot keep the upload: {e}")))?;
    let mut name: Option<String> = None;
    let (mut supplier, mut template, mut preset, mut options) = (None, None, None, ImportOptions::default());
    let (mut dry_run, mut force) = (false, false);
    while let Some(mut field) = form.next_field().await.map_err(upload_failed)? {
        let field_name = field.name().unwrap_or_default().to_string();
        if field_name == "file" {
            use tokio::io::AsyncWriteExt;
            name = Some(field.file_name().unwrap_or("upload").to_string());
            let mut out = tokio::fs::File::create(spool.path())
                .await
                .map_err(|e| invalid("file", format!("cannot keep the upload: {e}")))?;
            while let Some(chunk) = field.chunk().await.map_err(upload_failed)? {
                out.write_all(&chunk).await.map_err(|e| invalid("file", format!("cannot keep the upload: {e}")))?;
            }
            out.flush().await.map_err(|e| invalid("file", format!("cannot keep the upload: {e}")))?;
            continue;
        }
        let value = field.text().await.map_err(upload_failed)?;
        if value.contains('\0') {
            return Err(invalid(&field_name, "contains a NUL character").into());
        }
        let flag = |value: &str| match value.trim() {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" | "" => Ok(false),
            other => Err(invalid(&field_name, format!("{other:?} is not true or false"))),
        };
        match field_name.as_str() {
            // An HTML form sends its empty selects too: an empty template or preset is none.
            "template" | "preset" if value.trim().is_empty() => {}
            "supplier" => supplier = Some(value),
            "template" => template = Some(value),
            "preset" => preset = Some(Preset::parse(&value).map_err(|e| ApiError(e.into()))?),
            "dry_run" => dry_run = flag(&value)?,
            "force" => force = flag(&value)?,
            "options" => options = parse_json(&value).map_err(ApiError::from)?,
            other => {
                return Err(invalid(
                    other,
                    "unknown field (file, supplier, template, preset, dry_run, force, options)",
                )
                .into());
            }
        }
    }
    let name = name.ok_or_else(|| invalid("file", "no file field in the form"))?;
    let supplier = supplier.ok_or_else(|| invalid("supplier", "missing (the supplier's id or code)"))?;
    let supplier = state.sdk.suppliers().find(&supplier).await.map_err(ApiError)?;
    let template = match template {
        Some(key) => Some(state.sdk.imports().find_template(&key).await.map_err(ApiError)?.id),
        None => None,
    };
    let input = NewImport {
        supplier_id: supplier.id,
        name,
        path: spool.path().to_path_buf(),
        template,
        preset,
        dry_run,
        force,
        options,
        requested_by: Some(caller.user_id),
    };
    let job = state.sdk.imports().upload(input).await.map_err(ApiError)?;
    Ok((StatusCode::ACCEPTED, Json(job)).into_response())
}
