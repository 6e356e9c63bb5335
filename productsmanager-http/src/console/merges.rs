//! `/console/products/duplicates`: probable duplicates with a Merge button; a product page's merges with Undo.

use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use productsmanager_core::catalog::{DuplicateCandidate, DuplicateSide, ProductMerge};
use serde::Deserialize;
use uuid::Uuid;

use super::layout::{self, Failure, Section};
use super::session::Client;

/// The report's query as the page's form sends it (`min_score`), passed to the API as it is.
#[derive(Debug, Default, Deserialize)]
struct ReportQuery {
    #[serde(default)]
    min_score: Option<String>,
}

/// `GET /console/products/duplicates`: the pairs, best first, each with a Merge button.
pub(crate) async fn page(Client(api): Client, RawQuery(query): RawQuery) -> Response {
    let query: ReportQuery = serde_urlencoded::from_str(query.as_deref().unwrap_or("")).unwrap_or_default();
    let min_score = query.min_score.filter(|s| !s.trim().is_empty()).unwrap_or_else(|| "0.8".into());
    let encoded: String = form_urlencoded::byte_serialize(min_score.as_bytes()).collect();
    let path = format!("/api/v1/products/duplicates?min_score={encoded}&limit=200");
    let pairs = api.get::<Vec<DuplicateCandidate>>(&path).await;
    report(pairs.map_err(Failure::from), &min_score, None).into_response()
}

fn report(pairs: Result<Vec<DuplicateCandidate>, Failure>, min_score: &str, failure: Option<&Failure>) -> Markup {
    layout::page(
        "Duplicates",
        Some(Section::Products),
        html! {
            p { a href="/console/products" { "← Products" } }
            h1 { "Probable duplicates" }
            p.note { "Products whose brand and title agree, at least one of them without a GTIN, no attribute
                differing. Merging moves the duplicate's offers, prices, attributes, categories, images and stock to
                the survivor (the survivor's own values win); its id and codes then lead to the survivor. A merge can
                be undone for 30 days from the survivor's page." }
            form.filters method="get" action="/console/products/duplicates" {
                div.field {
                    label for="min_score" { "Lowest score (0 to 1)" }
                    input #min_score name="min_score" type="number" min="0" max="1" step="0.05" value=(min_score);
                }
                button type="submit" { "Show" }
            }
            @if let Some(failure) = failure { (failure.banner()) }
            @match pairs {
                Err(failure) => (failure.banner()),
                Ok(pairs) if pairs.is_empty() => p #no-duplicates.note { "No probable duplicates at this score." },
                Ok(pairs) => div.table-scroll {
                    table #duplicates-table {
                        thead { tr { th.num { "Score" } th { "Keep" } th { "Merge into it" } th {} } }
                        tbody {
                            @for pair in &pairs {
                                tr {
                                    td.num { (format!("{:.2}", pair.score)) }
                                    td { (side(&pair.survivor)) }
                                    td { (side(&pair.duplicate)) }
                                    td {
                                        form method="post" action="/console/products/duplicates/merge" {
                                            input type="hidden" name="survivor" value=(pair.survivor.id);
                                            input type="hidden" name="duplicate" value=(pair.duplicate.id);
                                            button type="submit" { "Merge" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                },
            }
        },
    )
}

fn side(side: &DuplicateSide) -> Markup {
    html! {
        a href={ "/console/products/" (side.id) } { (side.title) }
        br;
        small.note {
            @if let Some(brand) = &side.brand { (brand) " · " }
            @if let Some(gtin) = &side.gtin { "GTIN " (gtin) } @else if let Some(sku) = &side.sku { "SKU " (sku) }
            @else { "no GTIN or SKU" }
        }
    }
}

/// The merge form, as posted.
#[derive(Debug, Deserialize)]
pub(crate) struct MergeForm {
    survivor: Uuid,
    duplicate: Uuid,
}

/// `POST /console/products/duplicates/merge`: merges, then shows the survivor with what the merge did.
pub(crate) async fn merge(Client(api): Client, axum::Form(form): axum::Form<MergeForm>) -> Response {
    let path = format!("/api/v1/products/{}/merge", form.survivor);
    let body = serde_json::json!({ "duplicate": form.duplicate.to_string() });
    match api.call(Method::POST, &path, &body, HeaderMap::new()).await {
        Ok(_) => layout::see_other(&format!("/console/products/{}?saved=merged#merges", form.survivor)),
        Err(failure) => {
            let pairs = api.get::<Vec<DuplicateCandidate>>("/api/v1/products/duplicates?limit=200").await;
            let failure = Failure::from(failure);
            report(pairs.map_err(Failure::from), "0.8", Some(&failure)).into_response()
        }
    }
}

/// `POST /console/merges/{id}/undo`: undoes a merge, then shows the product that is itself again.
pub(crate) async fn undo(Client(api): Client, Path(id): Path<String>) -> Response {
    let path = format!("/api/v1/product-merges/{id}/undo");
    match api.send_json::<ProductMerge>(Method::POST, &path, &serde_json::json!({})).await {
        Ok(merge) => layout::see_other(&format!("/console/products/{}?saved=unmerged", merge.merged_id)),
        Err(failure) => Failure::from(failure).into_response(),
    }
}

/// A product page's merges: the products merged into it (standing ones with Undo), and the one it was merged into
/// when the page was reached by a merged product's id.
pub(crate) fn section(product: Uuid, merges: Result<Vec<ProductMerge>, Failure>) -> Markup {
    let merges = match merges {
        Ok(merges) => merges,
        Err(failure) => {
            return html! { section aria-labelledby="merges" { h2 #merges { "Merges" } (failure.banner()) } };
        }
    };
    let into_this: Vec<&ProductMerge> = merges.iter().filter(|m| m.survivor_id == product).collect();
    if into_this.is_empty() {
        return html! {};
    }
    html! {
        section aria-labelledby="merges" {
            h2 #merges { "Merged into this product" }
            ul #merge-list {
                @for merge in into_this {
                    li {
                        (merge.merged_title) " — " (merge.created_at.format("%Y-%m-%d %H:%M")) ": moved "
                        (merge.moved)
                        @if !merge.kept_by_survivor.is_empty() {
                            " (kept this product's own " (merge.kept_by_survivor.join(", ")) ")"
                        }
                        @if let Some(undone) = merge.undone_at { " — undone " (undone.format("%Y-%m-%d %H:%M")) }
                        @else {
                            form.inline method="post" action={ "/console/merges/" (merge.id) "/undo" } {
                                button type="submit" { "Undo" }
                            }
                        }
                    }
                }
            }
        }
    }
}
