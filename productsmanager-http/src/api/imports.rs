//! `/api/v1/import-configs`: where supplier files come from (folder, FTP/FTPS, e-mail), their cron schedules and
//! the files they took (credentials go in, never out); `/api/v1/mapping-templates`; `/api/v1/imports`: files
//! uploaded (multipart) and queued for import, their jobs and refused rows.

use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use productsmanager_core::imports::mapping::Preset;
use productsmanager_core::imports::{ImportError, ImportOptions, NewImport, NewImportConfig, NewMappingTemplate};
use productsmanager_core::input::{parse_id, parse_json};
use serde::Deserialize;

use super::ApiJson;
use crate::AppState;
use crate::error::ApiError;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/import-configs", get(list).post(create))
        .route("/api/v1/import-configs/{id}", get(config).delete(delete_config))
        .route("/api/v1/import-configs/{id}/schedules", get(schedules).post(add_schedule))
        .route("/api/v1/import-configs/{id}/files", get(files))
        .route("/api/v1/mapping-templates", get(templates).post(save_template))
        .route("/api/v1/mapping-templates/{id}", get(template).delete(delete_template))
        .route("/api/v1/imports", get(jobs).post(upload).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)))
        .route("/api/v1/imports/{id}", get(job))
        .route("/api/v1/imports/{id}/errors.csv", get(errors_csv))
}

/// Largest file accepted by upload.
const MAX_UPLOAD_BYTES: usize = 1 << 30;

async fn list(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.imports().configs().await?))
}

async fn create(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<NewImportConfig>,
) -> Result<impl IntoResponse, ApiError> {
    Ok((StatusCode::CREATED, Json(state.sdk.imports().create_config(input).await?)))
}

async fn config(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.imports().config(parse_id("id", &id)?).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewSchedule {
    cron: String,
    #[serde(default = "utc")]
    timezone: String,
}

fn utc() -> String {
    "UTC".to_string()
}

async fn schedules(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.imports().schedules(parse_id("id", &id)?).await?))
}

async fn add_schedule(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<NewSchedule>,
) -> Result<impl IntoResponse, ApiError> {
    let schedule = state.sdk.imports().create_schedule(parse_id("id", &id)?, &input.cron, &input.timezone).await?;
    Ok((StatusCode::CREATED, Json(schedule)))
}

async fn files(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.imports().files(parse_id("id", &id)?).await?))
}

async fn delete_config(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    state.sdk.imports().delete_config(parse_id("id", &id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn templates(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.imports().templates().await?))
}

async fn save_template(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<NewMappingTemplate>,
) -> Result<impl IntoResponse, ApiError> {
    Ok((StatusCode::CREATED, Json(state.sdk.imports().save_template(input).await?)))
}

async fn template(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.imports().template(parse_id("id", &id)?).await?))
}

async fn delete_template(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    state.sdk.imports().delete_template(parse_id("id", &id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JobsQuery {
    #[serde(default)]
    supplier: Option<String>,
    #[serde(default = "twenty")]
    limit: u32,
}

fn twenty() -> u32 {
    20
}

async fn jobs(State(state): State<AppState>, Query(query): Query<JobsQuery>) -> Result<impl IntoResponse, ApiError> {
    let supplier = match &query.supplier {
        Some(key) => Some(state.sdk.suppliers().find(key).await?.id),
        None => None,
    };
    Ok(Json(state.sdk.imports().jobs(supplier, query.limit).await?))
}

async fn job(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.sdk.imports().job(parse_id("id", &id)?).await?))
}

async fn errors_csv(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    let csv = state.sdk.imports().errors_csv(parse_id("id", &id)?).await?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv))
}

fn invalid(field: &str, reason: impl Into<String>) -> ApiError {
    ApiError(ImportError::invalid(field, reason).into())
}

/// `multipart/form-data`: `file` (the file, with its name), `supplier` (id or code), and optionally `template`
/// (id), `preset`, `dry_run`, `force` (`true`/`false`), `options` (JSON). The file is streamed to disk, stored,
/// and its import queued: 202 with the job (poll `GET /api/v1/imports/{id}`).
async fn upload(State(state): State<AppState>, mut form: Multipart) -> Result<impl IntoResponse, ApiError> {
    let upload_failed = |e: axum::extract::multipart::MultipartError| invalid("file", e.body_text());
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
        let flag = |value: &str| match value.trim() {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" | "" => Ok(false),
            other => Err(invalid(&field_name, format!("{other:?} is not true or false"))),
        };
        match field_name.as_str() {
            "supplier" => supplier = Some(value),
            "template" => template = Some(parse_id("template", &value)?),
            "preset" => preset = Some(Preset::parse(&value).map_err(|e| ApiError(e.into()))?),
            "dry_run" => dry_run = flag(&value)?,
            "force" => force = flag(&value)?,
            "options" => options = parse_json(&value)?,
            other => {
                return Err(invalid(
                    other,
                    "unknown field (file, supplier, template, preset, dry_run, force, options)",
                ));
            }
        }
    }
    let name = name.ok_or_else(|| invalid("file", "no file field in the form"))?;
    let supplier = supplier.ok_or_else(|| invalid("supplier", "missing (the supplier's id or code)"))?;
    let supplier = state.sdk.suppliers().find(&supplier).await?;
    let input = NewImport {
        supplier_id: supplier.id,
        name,
        path: spool.path().to_path_buf(),
        template,
        preset,
        dry_run,
        force,
        options,
    };
    let job = state.sdk.imports().upload(input).await?;
    Ok((StatusCode::ACCEPTED, Json(job)))
}
