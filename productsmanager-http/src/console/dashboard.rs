//! `GET /console`: the catalog at a glance, the latest imports and exports.

use maud::{Markup, html};
use productsmanager_core::analytics::CatalogOverview;
use productsmanager_core::catalog::Page;
use productsmanager_core::exports::ExportJob;
use productsmanager_core::imports::ImportJob;

use super::client::ApiFailure;
use super::imports::{import_rows, state_badge};
use super::layout::{self, Failure, Section};
use super::session::Client;

/// A part of the dashboard the user may not see (a missing permission) shows the API's reason in its place; the
/// rest of the page still renders.
fn or_reason<T>(part: Result<T, ApiFailure>, render: impl FnOnce(T) -> Markup) -> Markup {
    match part {
        Ok(value) => render(value),
        Err(failure) => Failure::from(failure).banner(),
    }
}

fn percent(part: i64, whole: i64) -> String {
    if whole == 0 {
        return "–".to_string();
    }
    // Display only: counts far below 2^52 are exact as f64.
    #[allow(clippy::cast_precision_loss)]
    let share = part as f64 * 100.0 / whole as f64;
    format!("{share:.0} %")
}

fn overview(overview: CatalogOverview) -> Markup {
    let figures = [
        ("Products", overview.products.to_string()),
        ("With GTIN", percent(overview.with_gtin, overview.products)),
        ("With ASIN", percent(overview.with_asin, overview.products)),
        ("With images", percent(overview.with_images, overview.products)),
        ("In stock", percent(overview.in_stock, overview.products)),
        ("Complete", percent(overview.complete, overview.products)),
    ];
    html! {
        dl.figures {
            @for (label, value) in figures {
                div { dt { (label) } dd { (value) } }
            }
        }
        p.note { "As of " (overview.taken_at.format("%Y-%m-%d %H:%M UTC")) " (the catalog is measured hourly). "
            "Mean completeness score " (format!("{:.0}", overview.mean_score)) "." }
    }
}

/// `GET /console`.
pub(crate) async fn page(Client(api): Client) -> Markup {
    let (catalog, imports, recent_exports, asin_jobs) = tokio::join!(
        api.get::<CatalogOverview>("/api/v1/analytics/overview"),
        api.get::<Page<ImportJob>>("/api/v1/imports?limit=5"),
        api.get::<Page<ExportJob>>("/api/v1/exports?limit=5"),
        super::code2asin::recent_jobs(&api, 5),
    );
    layout::page(
        "Dashboard",
        Some(Section::Dashboard),
        html! {
            h1 { "Dashboard" }
            section aria-labelledby="catalog" {
                h2 #catalog { "Catalog" }
                (or_reason(catalog, overview))
            }
            section aria-labelledby="imports" {
                h2 #imports { "Recent imports" }
                (or_reason(imports, |page| import_rows(&page.items, state_badge)))
                p { a href="/console/imports" { "All imports, upload a file" } }
            }
            section aria-labelledby="exports" {
                h2 #exports { "Recent exports" }
                (or_reason(recent_exports, |page| super::exports::job_rows(&page.items)))
            }
            section aria-labelledby="code2asin" {
                h2 #code2asin { "Code2ASIN" }
                (or_reason(asin_jobs, |jobs| super::code2asin::job_table(&jobs)))
                p { a href="/console/code2asin" { "Jobs and matches to review" } }
                p { a href="/console/exports" { "Platforms, feeds, all exports" } }
            }
        },
    )
}
