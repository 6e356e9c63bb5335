//! `/console/exports`: the sales platforms and their runs, feed files, and what became of each product of a run.

use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use productsmanager_core::catalog::Page;
use productsmanager_core::exports::{ExportItem, ExportJob, Platform};
use serde::Deserialize;

use super::client::Api;
use super::layout::{self, Failure, Section};
use super::session::Client;

/// Items of a run shown on its page (the API pages them; the rest are a click away in the API).
const ITEMS_SHOWN: u32 = 200;

/// The feed formats, as the API names them, with what each is.
const FEED_FORMATS: [(&str, &str); 6] = [
    ("csv", "CSV, our own columns"),
    ("xlsx", "Excel workbook, our own columns"),
    ("shopify_csv", "Shopify product CSV"),
    ("woocommerce_csv", "WooCommerce product CSV"),
    ("google_merchant_xml", "Google Merchant Center RSS feed"),
    ("google_merchant_tsv", "Google Merchant Center TSV feed"),
];

fn is_finished(state: &str) -> bool {
    matches!(state, "succeeded" | "failed" | "dead" | "cancelled")
}

pub(crate) fn job_rows(jobs: &[ExportJob]) -> Markup {
    html! {
        @if jobs.is_empty() {
            p.note { "No export has run yet." }
        } @else {
            div.table-scroll {
                table {
                    thead { tr { th { "Queued" } th { "Mode" } th { "State" } th.num { "Items" } th.num { "Failed" } } }
                    tbody {
                        @for job in jobs {
                            tr {
                                td { a href={ "/console/exports/" (job.id) } { (job.created_at.format("%Y-%m-%d %H:%M")) } }
                                td { (job.mode) @if let Some(format) = job.format { " (" (serde_json::to_value(format).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()) ")" } }
                                td { span.badge.(job.state) { (job.state) } }
                                td.num { (job.items_processed) }
                                td.num { (job.items_failed) }
                            }
                        }
                    }
                }
            }
        }
    }
}

async fn list_page(api: &Api, failure: Option<Failure>) -> Response {
    let (platforms, jobs) = tokio::join!(
        api.get::<Vec<Platform>>("/api/v1/exports/platforms"),
        api.get::<Page<ExportJob>>("/api/v1/exports?limit=50")
    );
    let (platforms, jobs) = match (platforms, jobs) {
        (Ok(platforms), Ok(jobs)) => (platforms, jobs.items),
        (Err(failure), _) | (_, Err(failure)) => return Failure::from(failure).into_response(),
    };
    let status = failure.as_ref().map_or(StatusCode::OK, |f| f.status);
    let body = layout::page(
        "Exports",
        Some(Section::Exports),
        html! {
            h1 { "Exports" }
            @if let Some(failure) = &failure { (failure.banner()) }
            section aria-labelledby="platforms" {
                h2 #platforms { "Sales platforms" }
                @if platforms.is_empty() {
                    p.note { "No platform yet (`productsmanager export platform add`, or the API)." }
                } @else {
                    div.table-scroll {
                        table #platform-table {
                            thead { tr { th { "Name" } th { "Platform" } th { "Address" } th { "Last success" } th { "Run" } } }
                            tbody {
                                @for platform in &platforms {
                                    tr {
                                        td { (platform.name) @if !platform.is_active { " " span.badge { "inactive" } } }
                                        td { (platform.platform) }
                                        td { (platform.endpoint) }
                                        td { (platform.last_success_at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()) }
                                        td {
                                            @for (mode, label) in [("delta", "What changed"), ("full", "Everything")] {
                                                form.inline method="post" action={ "/console/exports/platforms/" (platform.id) "/runs" } {
                                                    input type="hidden" name="mode" value=(mode);
                                                    button type="submit" { (label) }
                                                }
                                                " "
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            section aria-labelledby="feed" {
                h2 #feed { "Feed file" }
                form #feed-form method="post" action="/console/exports/feeds" {
                    div.field {
                        label for="format" { "Format" }
                        select #format name="format" {
                            @for (value, label) in FEED_FORMATS { option value=(value) { (label) } }
                        }
                    }
                    button type="submit" { "Write the feed" }
                }
            }
            section aria-labelledby="runs" {
                h2 #runs { "Latest exports" }
                (job_rows(&jobs))
            }
        },
    );
    (status, body).into_response()
}

/// `GET /console/exports`.
pub(crate) async fn list(Client(api): Client) -> Response {
    list_page(&api, None).await
}

#[derive(Debug, Deserialize)]
pub(crate) struct FeedForm {
    format: String,
}

/// `POST /console/exports/feeds`: queues a feed; then its page.
pub(crate) async fn feed(Client(api): Client, axum::Form(form): axum::Form<FeedForm>) -> Response {
    let body = serde_json::json!({ "format": form.format });
    queued(&api, api.call(Method::POST, "/api/v1/exports/feeds", &body, HeaderMap::new()).await).await
}

#[derive(Debug, Deserialize)]
pub(crate) struct RunForm {
    mode: String,
}

/// `POST /console/exports/platforms/{id}/runs`: queues a run; then its page.
pub(crate) async fn run(
    Client(api): Client,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<RunForm>,
) -> Response {
    let body = serde_json::json!({ "mode": form.mode });
    let path = format!("/api/v1/exports/platforms/{id}/runs");
    queued(&api, api.call(Method::POST, &path, &body, HeaderMap::new()).await).await
}

async fn queued(api: &Api, answer: Result<super::client::Answer, super::client::ApiFailure>) -> Response {
    match answer.and_then(|answer| answer.json::<ExportJob>()) {
        Ok(job) => layout::see_other(&format!("/console/exports/{}", job.id)),
        Err(failure) => list_page(api, Some(failure.into())).await,
    }
}

async fn progress_part(api: &Api, job: &ExportJob) -> Result<Markup, Failure> {
    let finished = is_finished(&job.state);
    let items: Vec<ExportItem> = if finished && job.platform_id.is_some() {
        api.get(&format!("/api/v1/exports/{}/items?limit={ITEMS_SHOWN}", job.id)).await?
    } else {
        Vec::new()
    };
    let poll = (!finished).then(|| format!("/console/exports/{}/progress", job.id));
    Ok(html! {
        section #progress aria-live="polite" hx-get=[poll.as_deref()] hx-trigger=[poll.as_ref().map(|_| "every 1s")]
            hx-swap="outerHTML" {
            p { "State: " span.badge.(job.state) { (job.state) } }
            @let count = |n: i64| u64::try_from(n).unwrap_or(0);
            (layout::progress_bar("Export progress", count(job.items_processed), job.items_total.map(count), finished, "items"))
            dl.figures {
                div { dt { "Created" } dd { (job.items_created) } }
                div { dt { "Updated" } dd { (job.items_updated) } }
                div { dt { "Unchanged" } dd { (job.items_unchanged) } }
                div { dt { "Failed" } dd #failed { (job.items_failed) } }
            }
            @if let Some(error) = &job.last_error { div.problem role="alert" { strong { "The export failed. " } (error) } }
            @if finished && job.output_object_key.is_some() {
                p { a #download href={ "/console/exports/" (job.id) "/file" } download { "Download the file" } }
            }
            @if !items.is_empty() {
                h2 { "Products" }
                div.table-scroll {
                    table #items {
                        thead { tr { th { "Product" } th { "Status" } th { "On the platform" } th { "Error" } th.num { "Attempts" } } }
                        tbody {
                            @for item in &items {
                                tr {
                                    td { a href={ "/console/products/" (item.product_id) } { (item.product_id) } }
                                    td { span.badge.(item.status) { (item.status) } }
                                    td { (item.remote_id.as_deref().unwrap_or("")) }
                                    td { (item.error.as_deref().unwrap_or("")) }
                                    td.num { (item.attempts) }
                                }
                            }
                        }
                    }
                }
            }
        }
    })
}

/// `GET /console/exports/{id}`.
pub(crate) async fn show(Client(api): Client, Path(id): Path<String>) -> Result<Markup, Failure> {
    let job: ExportJob = api.get(&format!("/api/v1/exports/{id}")).await?;
    let progress = progress_part(&api, &job).await?;
    Ok(layout::page(
        "Export",
        Some(Section::Exports),
        html! {
            p { a href="/console/exports" { "← Exports" } }
            h1 { "Export of " (job.created_at.format("%Y-%m-%d %H:%M")) }
            (progress)
        },
    ))
}

/// `GET /console/exports/{id}/progress`: the fragment `show` polls.
pub(crate) async fn progress(Client(api): Client, Path(id): Path<String>) -> Result<Markup, Failure> {
    let job: ExportJob = api.get(&format!("/api/v1/exports/{id}")).await?;
    progress_part(&api, &job).await
}

/// `GET /console/exports/{id}/file`: the API's file, with its type and name.
pub(crate) async fn file(Client(api): Client, Path(id): Path<String>) -> Result<Response, Failure> {
    let request = axum::http::Request::get(format!("/api/v1/exports/{id}/file"))
        .body(Body::empty())
        .map_err(|e| Failure::invalid("id", &e.to_string()))?;
    let response = api.forward(request).await;
    if !response.status().is_success() {
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, 64 * 1024).await.unwrap_or_default();
        let problem = serde_json::from_slice::<crate::error::Problem>(&bytes).ok();
        return Err(Failure {
            status: parts.status,
            title: parts.status.canonical_reason().unwrap_or("Error").to_string(),
            detail: problem.map_or_else(|| String::from_utf8_lossy(&bytes).into_owned(), |p| p.detail),
            field: None,
        });
    }
    let (mut parts, body) = response.into_parts();
    parts.headers.remove(header::SET_COOKIE);
    Ok(Response::from_parts(parts, body))
}
