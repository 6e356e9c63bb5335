//! `/console/imports`: upload a supplier file, follow its import, read the refused rows.

use axum::body::Body;
use axum::extract::{Path, Request};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use productsmanager_core::catalog::{Page, Supplier};
use productsmanager_core::imports::mapping::Preset;
use productsmanager_core::imports::{ImportConfig, ImportJob, ImportSchedule, MappingTemplate};
use productsmanager_core::jobs::JobState;
use serde::Deserialize;

use super::client::Api;
use super::layout::{self, Failure, Section, field};
use super::session::Client;

/// Refused rows shown on the page; the rest are in the downloadable CSV.
const ERRORS_SHOWN: usize = 200;

/// A job's state as a badge (its class colours it).
pub(crate) fn state_badge(job: &ImportJob) -> Markup {
    let state = job.state.as_str();
    html! { span.badge.(state) { (state) } }
}

fn is_finished(state: JobState) -> bool {
    matches!(state, JobState::Succeeded | JobState::Failed | JobState::Dead | JobState::Cancelled)
}

/// The table of import jobs (also on the dashboard).
pub(crate) fn import_rows(jobs: &[ImportJob], badge: fn(&ImportJob) -> Markup) -> Markup {
    html! {
        @if jobs.is_empty() {
            p.note { "No import yet." }
        } @else {
            div.table-scroll {
                table {
                    thead { tr { th { "Queued" } th { "File" } th { "State" } th.num { "Rows" } th.num { "Created" }
                        th.num { "Updated" } th.num { "Refused" } } }
                    tbody {
                        @for job in jobs {
                            tr {
                                td { a href={ "/console/imports/" (job.id) } { (job.created_at.format("%Y-%m-%d %H:%M")) } }
                                td { (job.summary.as_ref().map_or("–", |s| s.file.as_str()))
                                    @if job.dry_run { " " span.badge { "dry run" } } }
                                td { (badge(job)) }
                                td.num { (job.progress.rows_read) }
                                td.num { (job.progress.created) }
                                td.num { (job.progress.updated) }
                                td.num { (job.progress.invalid) }
                            }
                        }
                    }
                }
            }
        }
    }
}

async fn suppliers(api: &Api) -> Result<Vec<Supplier>, Failure> {
    Ok(api.get::<Page<Supplier>>("/api/v1/suppliers?limit=500").await?.items)
}

fn upload_form(suppliers: &[Supplier], templates: &[MappingTemplate]) -> Markup {
    html! {
        form.upload method="post" action="/console/imports" enctype="multipart/form-data" {
            label.drop-zone for="file" {
                span { "Drop a supplier file here (CSV, TSV, XLSX, ODS), or choose one" }
                input #file type="file" name="file" required accept=".csv,.tsv,.txt,.xlsx,.xlsm,.xls,.ods";
            }
            div.field {
                label for="supplier" { "Supplier" }
                select #supplier name="supplier" required {
                    @for supplier in suppliers {
                        option value=(supplier.code) { (supplier.name) " (" (supplier.code) ")" }
                    }
                }
            }
            div.field {
                label for="preset" { "Preset (the file's layout)" }
                select #preset name="preset" {
                    option value="" { "None: use a template" }
                    @for preset in Preset::ALL {
                        option value=(preset.as_str()) { (preset.as_str()) }
                    }
                }
            }
            div.field {
                label for="template" { "Mapping template" }
                select #template name="template" {
                    option value="" { "None" }
                    @for template in templates {
                        option value=(template.id) { (template.name) " v" (template.version) }
                    }
                }
            }
            div.field.check {
                input #dry_run type="checkbox" name="dry_run" value="true";
                label for="dry_run" { "Dry run: show what would change, write nothing" }
            }
            div.field.check {
                input #force type="checkbox" name="force" value="true";
                label for="force" { "Import again even if this exact file was imported before" }
            }
            button type="submit" { "Upload and import" }
        }
    }
}

/// The new-supplier form, as posted.
#[derive(Debug, Deserialize, serde::Serialize)]
pub(crate) struct SupplierForm {
    code: String,
    name: String,
    default_currency: String,
}

/// The imports page; `failure` is an upload's refusal, `supplier` a new supplier's (with what was typed).
/// The stored mapping templates, and the import sources (folder, FTP, e-mail, URL…) with their schedules.
async fn sources_section(api: &Api, templates: &[MappingTemplate], suppliers: &[Supplier]) -> Markup {
    let configs = match api.get::<Page<ImportConfig>>("/api/v1/import-configs?limit=500").await {
        Ok(page) => page.items,
        Err(failure) => return Failure::from(failure).banner(),
    };
    let mut schedules = Vec::with_capacity(configs.len());
    for config in &configs {
        let path = format!("/api/v1/import-configs/{}/schedules", config.id);
        schedules.push(api.get::<Vec<ImportSchedule>>(&path).await.unwrap_or_default());
    }
    let supplier_name = |id| suppliers.iter().find(|s| s.id == id).map_or("–", |s| s.name.as_str());
    html! {
        h2 #templates { "Mapping templates" }
        @if templates.is_empty() { p.note { "None yet (`productsmanager import template save`, or the API)." } } @else {
            div.table-scroll { table {
                thead { tr { th { "Name" } th.num { "Version" } th { "Written for" } th { "Description" } } }
                tbody { @for template in templates { tr {
                    td { (template.name) } td.num { (template.version) }
                    td { (template.supplier_id.map_or("any supplier", supplier_name)) } td { (template.description) }
                } } }
            } }
        }
        h2 #sources { "Import sources" }
        @if configs.is_empty() { p.note { "None yet: files are uploaded by hand (`productsmanager import config add`, or the API, set up a watched folder, FTP, e-mail or URL)." } } @else {
            div.table-scroll { table #source-table {
                thead { tr { th { "Name" } th { "Supplier" } th { "Source" } th { "Layout" } th { "Schedule" } th { "Last polled" } } }
                tbody { @for (config, schedules) in configs.iter().zip(&schedules) { tr {
                    td { (config.name) @if !config.is_active { " " span.badge { "inactive" } } }
                    td { (supplier_name(config.supplier_id)) }
                    td { (config.source_kind.as_str()) }
                    td { (config.preset.as_deref().unwrap_or(if config.mapping_template_id.is_some() { "template" } else { "–" })) }
                    td { @for schedule in schedules { div { code { (schedule.cron) } " " (schedule.timezone)
                        @if let Some(next) = schedule.next_run_at { span.note { " next " (next.format("%Y-%m-%d %H:%M")) } } } } }
                    td { (config.last_polled_at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()) }
                } } }
            } }
        }
    }
}

async fn list_page(
    api: &Api,
    failure: Option<&Failure>,
    supplier: Option<(&SupplierForm, &Failure)>,
) -> Result<Markup, Failure> {
    let typed = supplier.map(|(form, _)| form);
    let supplier_failure = supplier.map(|(_, failure)| failure);
    let (jobs, suppliers, templates) = tokio::join!(
        api.get::<Page<ImportJob>>("/api/v1/imports?limit=50"),
        suppliers(api),
        api.get::<Page<MappingTemplate>>("/api/v1/mapping-templates?limit=500"),
    );
    let (jobs, suppliers, templates) = (jobs?, suppliers?, templates?);
    let sources = sources_section(api, &templates.items, &suppliers).await;
    Ok(layout::page(
        "Imports",
        Some(Section::Imports),
        html! {
            h1 { "Imports" }
            section aria-labelledby="upload" {
                h2 #upload { "Upload a file" }
                @if let Some(failure) = failure { (failure.banner()) }
                @if suppliers.is_empty() {
                    p.note { "No supplier yet: a file is imported for a supplier; add one first." }
                } @else {
                    (upload_form(&suppliers, &templates.items))
                }
            }
            section aria-labelledby="new-supplier" {
                h2 #new-supplier { "New supplier" }
                @if let Some(failure) = supplier_failure {
                    @if failure.field.as_deref().is_none_or(|f| !["code", "name", "default_currency"].contains(&f)) {
                        (failure.banner())
                    }
                }
                form #new-supplier-form method="post" action="/console/suppliers" {
                    (field("Code (short, unique)", "code", typed.map_or("", |t| t.code.as_str()), "text", supplier_failure))
                    (field("Name", "name", typed.map_or("", |t| t.name.as_str()), "text", supplier_failure))
                    (field("Currency of its prices", "default_currency",
                        typed.map_or("EUR", |t| t.default_currency.as_str()), "text", supplier_failure))
                    button type="submit" { "Add supplier" }
                }
            }
            section aria-labelledby="jobs" {
                h2 #jobs { "Latest imports" }
                (import_rows(&jobs.items, state_badge))
            }
            section aria-labelledby="templates" { (sources) }
        },
    ))
}

/// `GET /console/imports`.
pub(crate) async fn list(Client(api): Client) -> Result<Markup, Failure> {
    list_page(&api, None, None).await
}

/// `POST /console/suppliers`: a supplier to import files for.
pub(crate) async fn add_supplier(Client(api): Client, axum::Form(form): axum::Form<SupplierForm>) -> Response {
    match api.call(Method::POST, "/api/v1/suppliers", &form, HeaderMap::new()).await {
        Ok(_) => layout::see_other("/console/imports"),
        Err(failure) => {
            let failure = Failure::from(failure);
            match list_page(&api, None, Some((&form, &failure))).await {
                Ok(page) => (failure.status, page).into_response(),
                Err(other) => other.into_response(),
            }
        }
    }
}

/// `POST /console/imports`: the form goes to the API as it is (same fields, the file streamed through); then to
/// the import's page. A refusal is shown above the form.
pub(crate) async fn upload(Client(api): Client, request: Request) -> Response {
    let answer = match api.post_form("/api/v1/imports", request).await {
        Ok(answer) => answer,
        Err(failure) => {
            let failure = Failure::from(failure);
            return match list_page(&api, Some(&failure), None).await {
                Ok(page) => (failure.status, page).into_response(),
                Err(other) => other.into_response(),
            };
        }
    };
    match answer.json::<ImportJob>() {
        Ok(job) => layout::see_other(&format!("/console/imports/{}", job.id)),
        Err(failure) => Failure::from(failure).into_response(),
    }
}

/// A row of the errors CSV.
#[derive(Debug, Deserialize)]
struct RefusedRow {
    line: String,
    column: String,
    column_name: String,
    value: String,
    reason: String,
}

async fn refused_rows(api: &Api, id: &str) -> Result<Vec<RefusedRow>, Failure> {
    let answer =
        api.send(Method::GET, &format!("/api/v1/imports/{id}/errors.csv"), HeaderMap::new(), Body::empty()).await?;
    let mut reader = csv::Reader::from_reader(answer.body.as_ref());
    reader
        .deserialize()
        .take(ERRORS_SHOWN)
        .collect::<Result<Vec<RefusedRow>, _>>()
        .map_err(|e| Failure::from(super::client::ApiFailure::internal(format!("unreadable errors CSV: {e}"))))
}

/// The part of the import page that changes while it runs; it asks for itself again each second until the job
/// has finished.
async fn progress_part(api: &Api, job: &ImportJob) -> Result<Markup, Failure> {
    let finished = is_finished(job.state);
    let refused =
        if finished && job.progress.invalid > 0 { refused_rows(api, &job.id.to_string()).await? } else { Vec::new() };
    let progress = job.progress;
    let poll = (!finished).then(|| format!("/console/imports/{}/progress", job.id));
    Ok(html! {
        section #progress aria-live="polite" hx-get=[poll.as_deref()] hx-trigger=[poll.as_ref().map(|_| "every 1s")]
            hx-swap="outerHTML" {
            p { "State: " (state_badge(job)) }
            (layout::progress_bar("Import progress", progress.rows_read, progress.rows_total, finished, "rows read"))
            @let (created, updated) = if job.dry_run { ("Would create", "Would update") } else { ("Created", "Updated") };
            dl.figures {
                div { dt { (created) } dd #created { (progress.created) } }
                div { dt { (updated) } dd #updated { (progress.updated) } }
                div { dt { "Unchanged" } dd #unchanged { (progress.unchanged) } }
                div { dt { "Refused" } dd #refused { (progress.invalid) } }
            }
            @if let Some(error) = &job.last_error { div.problem role="alert" { strong { "The import failed. " } (error) } }
            @if let Some(summary) = &job.summary {
                p.note {
                    (summary.file) ", read as " (summary.format) "; " (summary.rows) " rows in "
                    (format!("{:.1}", f64::from(u32::try_from(summary.duration_ms).unwrap_or(u32::MAX)) / 1000.0)) " s."
                    @if let Some(earlier) = summary.identical_to {
                        " The same file was imported before (" a href={ "/console/imports/" (earlier) } { "that import" }
                        "): nothing was read. Upload it again with “Import again” to redo it."
                    }
                }
                @if !summary.diffs.is_empty() {
                    h2 { "What the import would change" }
                    div.table-scroll {
                        table #diffs {
                            thead { tr { th.num { "Line" } th { "Supplier SKU" } th { "Change" } th { "Fields" } } }
                            tbody {
                                @for diff in &summary.diffs {
                                    tr {
                                        td.num { (diff.line) }
                                        td { (diff.supplier_sku) }
                                        td { span.badge.(diff.kind) { (diff.kind) } }
                                        td { @for (name, (stored, from_file)) in &diff.fields {
                                            div { code { (name) } ": " (stored.as_deref().unwrap_or("–")) " → "
                                                (from_file.as_deref().unwrap_or("–")) }
                                        } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if finished && progress.invalid > 0 {
                h2 { "Refused rows" }
                p { a href={ "/console/imports/" (job.id) "/errors.csv" } download { "Download all refused rows (CSV)" }
                    @if progress.invalid > ERRORS_SHOWN as u64 { " — the first " (ERRORS_SHOWN) " are shown." } }
                div.table-scroll {
                    table #errors {
                        thead { tr { th.num { "Line" } th.num { "Column" } th { "Column name" } th { "Value" } th { "Reason" } } }
                        tbody {
                            @for row in &refused {
                                tr { td.num { (row.line) } td.num { (row.column) } td { (row.column_name) }
                                    td { (row.value) } td { (row.reason) } }
                            }
                        }
                    }
                }
            } @else if finished {
                p #no-errors { "No row was refused." }
            }
        }
    })
}

/// `GET /console/imports/{id}`.
pub(crate) async fn show(Client(api): Client, Path(id): Path<String>) -> Result<Markup, Failure> {
    let job: ImportJob = api.get(&format!("/api/v1/imports/{id}")).await?;
    let supplier = api.get::<Supplier>(&format!("/api/v1/suppliers/{}", job.supplier_id)).await.ok();
    let progress = progress_part(&api, &job).await?;
    Ok(layout::page(
        "Import",
        Some(Section::Imports),
        html! {
            p { a href="/console/imports" { "← Imports" } }
            h1 { "Import of " (job.created_at.format("%Y-%m-%d %H:%M")) }
            p.note {
                "Supplier: " (supplier.as_ref().map_or("–", |s| s.name.as_str()))
                " · preset: " (job.preset.as_deref().unwrap_or("–"))
                @if job.dry_run { " · " strong { "dry run" } " (nothing is written)" }
            }
            (progress)
        },
    ))
}

/// `GET /console/imports/{id}/progress`: the fragment `show` polls.
pub(crate) async fn progress(Client(api): Client, Path(id): Path<String>) -> Result<Markup, Failure> {
    let job: ImportJob = api.get(&format!("/api/v1/imports/{id}")).await?;
    progress_part(&api, &job).await
}

/// `GET /console/imports/{id}/errors.csv`: the API's CSV, as a download.
pub(crate) async fn errors_csv(Client(api): Client, Path(id): Path<String>) -> Result<Response, Failure> {
    let answer =
        api.send(Method::GET, &format!("/api/v1/imports/{id}/errors.csv"), HeaderMap::new(), Body::empty()).await?;
    let disposition = format!("attachment; filename=\"import-{id}-errors.csv\"");
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, disposition)],
        answer.body,
    )
        .into_response())
}
