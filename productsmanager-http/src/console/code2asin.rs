//! `/console/code2asin`: Code2ASIN jobs (start one from codes or from the catalog's products without an ASIN, follow
//! them) and the review of the matches found with low confidence (accept or reject).

use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use maud::{Markup, html};
use productsmanager_core::catalog::Page;
use productsmanager_core::code2asin::{Code2AsinCounts, Code2AsinResult, MARKETPLACES};
use serde::Deserialize;

use super::client::Api;
use super::layout::{self, Failure, Section};
use super::session::Client;

/// A Code2ASIN job as the API answers it (the fields shown).
#[derive(Debug, Deserialize)]
pub(crate) struct JobView {
    state: String,
    source: String,
    marketplace: String,
    counts: Code2AsinCounts,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
}

/// The latest `limit` Code2ASIN jobs.
pub(crate) async fn recent_jobs(api: &Api, limit: u32) -> Result<Vec<JobView>, super::client::ApiFailure> {
    Ok(api.get::<Page<JobView>>(&format!("/api/v1/code2asin/jobs?limit={limit}")).await?.items)
}

/// The jobs as a table: source, marketplace, state, codes done of all, matched, to review, not found.
pub(crate) fn job_table(jobs: &[JobView]) -> Markup {
    html! {
        @if jobs.is_empty() { p.note { "No job yet." } } @else {
            table {
                thead { tr { th { "Queued" } th { "Source" } th { "Marketplace" } th { "State" } th.num { "Codes" }
                    th.num { "Matched" } th.num { "To review" } th.num { "Not found" } } }
                tbody {
                    @for job in jobs {
                        tr {
                            td { (job.created_at.format("%Y-%m-%d %H:%M")) } td { (job.source) } td { (job.marketplace) }
                            td { span.badge.(job.state) { (job.state) }
                                @if let Some(error) = &job.last_error { br; span.field-error { (error) } } }
                            td.num { (job.counts.processed) @if let Some(total) = job.counts.total { " / " (total) } }
                            td.num { (job.counts.matched) } td.num { (job.counts.review) } td.num { (job.counts.not_found) }
                        }
                    }
                }
            }
        }
    }
}

async fn page_with(api: &Api, failure: Option<Failure>) -> Response {
    let (jobs, pending) = tokio::join!(
        recent_jobs(api, 20),
        api.get::<Page<Code2AsinResult>>("/api/v1/code2asin/results?review=pending&limit=100"),
    );
    let (jobs, pending) = match (jobs, pending) {
        (Ok(jobs), Ok(pending)) => (jobs, pending.items),
        (Err(failure), _) | (_, Err(failure)) => return Failure::from(failure).into_response(),
    };
    let status = failure.as_ref().map_or(StatusCode::OK, |f| f.status);
    let running = jobs.iter().any(|job| matches!(job.state.as_str(), "queued" | "running"));
    let body = layout::page(
        "Code2ASIN",
        Some(Section::Code2Asin),
        html! {
            h1 { "Code2ASIN" }
            @if let Some(failure) = &failure { (failure.banner()) }
            section aria-labelledby="review" {
                h2 #review { "Matches to review" }
                @if pending.is_empty() { p.note #nothing-to-review { "Nothing to review." } } @else {
                    p.note { "Found with a confidence below the supplier's threshold: accept to link the ASIN to the product, reject to drop it." }
                    div.table-scroll {
                        table #review-table {
                            thead { tr { th { "Code" } th { "ASIN" } th { "Amazon's title" } th { "Brand" } th.num { "Confidence" } th {} } }
                            tbody {
                                @for result in &pending {
                                    tr {
                                        td { (result.code) } td { code { (result.asin.as_deref().unwrap_or("")) } }
                                        td { (result.title.as_deref().unwrap_or("")) } td { (result.brand.as_deref().unwrap_or("")) }
                                        td.num { (result.confidence.map(|c| format!("{:.0} %", c * 100.0)).unwrap_or_default()) }
                                        td {
                                            @for (action, label) in [("accept", "Accept"), ("reject", "Reject")] {
                                                form.inline method="post" action={ "/console/code2asin/results/" (result.id) "/" (action) } {
                                                    button.link type="submit" { (label) }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            section aria-labelledby="new-job" {
                h2 #new-job { "Find ASINs" }
                form #code2asin-form method="post" action="/console/code2asin/jobs" {
                    div.field {
                        label for="codes" { "GTINs, EANs or UPCs, one per line (empty: every catalog product without an ASIN)" }
                        textarea #codes name="codes" rows="4" {}
                    }
                    div.field {
                        label for="marketplace" { "Marketplace" }
                        select #marketplace name="marketplace" {
                            @for marketplace in MARKETPLACES { option value=(marketplace.code) { (marketplace.code) " — " (marketplace.domain) } }
                        }
                    }
                    button type="submit" { "Start" }
                }
            }
            section aria-labelledby="jobs" hx-get=[running.then_some("/console/code2asin")] hx-trigger=[running.then_some("every 2s")]
                hx-select="#jobs-table" hx-target="#jobs-table" hx-swap="outerHTML" {
                h2 #jobs { "Jobs" }
                div.table-scroll #jobs-table { (job_table(&jobs)) }
            }
        },
    );
    (status, body).into_response()
}

/// `GET /console/code2asin`.
pub(crate) async fn page(Client(api): Client) -> Response {
    page_with(&api, None).await
}

#[derive(Debug, Deserialize)]
pub(crate) struct JobForm {
    #[serde(default)]
    codes: String,
    marketplace: String,
}

/// `POST /console/code2asin/jobs`: the codes typed, or (none typed) the catalog's products without an ASIN.
pub(crate) async fn start(Client(api): Client, axum::Form(form): axum::Form<JobForm>) -> Response {
    let codes: Vec<&str> = form.codes.lines().map(str::trim).filter(|c| !c.is_empty()).collect();
    let body = if codes.is_empty() {
        serde_json::json!({ "source": "catalog_missing_asin", "marketplace": form.marketplace })
    } else {
        serde_json::json!({ "source": "codes", "codes": codes, "marketplace": form.marketplace })
    };
    match api.call(Method::POST, "/api/v1/code2asin/jobs", &body, HeaderMap::new()).await {
        Ok(_) => layout::see_other("/console/code2asin"),
        Err(failure) => page_with(&api, Some(failure.into())).await,
    }
}

/// `POST /console/code2asin/results/{id}/{accept|reject}`.
pub(crate) async fn review(Client(api): Client, Path((id, action)): Path<(String, String)>) -> Response {
    if action != "accept" && action != "reject" {
        return Failure::invalid("action", "accept or reject").into_response();
    }
    let path = format!("/api/v1/code2asin/results/{id}/{action}");
    match api.send(Method::POST, &path, HeaderMap::new(), Body::empty()).await {
        Ok(_) => layout::see_other("/console/code2asin"),
        Err(failure) => page_with(&api, Some(failure.into())).await,
    }
}
