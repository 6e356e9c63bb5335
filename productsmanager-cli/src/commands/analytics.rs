//! `analytics overview|incomplete|rollup|snapshot`: the dashboards' figures, and the two hourly analytics jobs run
//! now (what the scheduler does at :05 and :25).

use clap::Subcommand;
use productsmanager_core::Sdk;
use productsmanager_core::analytics::CatalogOverview;

use crate::{Failure, output};

#[derive(Debug, Subcommand)]
pub(crate) enum AnalyticsCommand {
    /// The catalog at a glance, as of the latest snapshot (taken now if there is none).
    Overview {
        #[arg(long)]
        json: bool,
    },
    /// Products failing a completeness check (as of the latest snapshot), with what they miss.
    Incomplete {
        /// An export platform (id or name) whose completeness rules apply; the default rules otherwise.
        #[arg(long)]
        channel: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Roll up yesterday and today now (imports, exports, offers, latencies, cache, queues).
    Rollup {
        #[arg(long)]
        json: bool,
    },
    /// Read every product's completeness now and keep the overview the dashboard shows.
    Snapshot {
        #[arg(long)]
        json: bool,
    },
}

fn print_overview(overview: &CatalogOverview) {
    println!(
        "{} products as of {} (taken in {} ms): {} with GTIN, {} with ASIN, {} with images, {} in stock, {} complete \
         (mean score {:.1})",
        overview.products,
        overview.taken_at.format("%Y-%m-%d %H:%M UTC"),
        overview.duration_ms,
        overview.with_gtin,
        overview.with_asin,
        overview.with_images,
        overview.in_stock,
        overview.complete,
        overview.mean_score
    );
    output::table(
        ["category", "products", "complete", "mean score"],
        overview.categories.iter().map(|c| {
            [
                output::or_dash(c.name.as_deref()),
                c.products.to_string(),
                c.complete.to_string(),
                format!("{:.1}", c.mean_score),
            ]
        }),
    );
}

pub(crate) async fn run(sdk: &Sdk, command: AnalyticsCommand) -> Result<(), Failure> {
    let analytics = sdk.analytics();
    match command {
        AnalyticsCommand::Overview { json } => {
            let overview = analytics.overview().await?;
            if json { output::json(&overview) } else { print_overview(&overview) }
        }
        AnalyticsCommand::Snapshot { json } => {
            let overview = analytics.take_catalog_snapshot().await?;
            if json { output::json(&overview) } else { print_overview(&overview) }
        }
        AnalyticsCommand::Incomplete { channel, limit, json } => {
            let rules = analytics.rules_of_channel(channel.as_deref()).await?;
            let page = analytics.incomplete_products(&rules, None, None, Some(limit)).await?;
            if json {
                output::json(&page);
            } else {
                output::table(
                    ["product", "sku", "title", "score", "missing"],
                    page.items.iter().map(|c| {
                        [
                            c.product_id.to_string(),
                            output::or_dash(c.sku.as_deref()),
                            output::or_dash(c.title.as_deref()),
                            c.score.to_string(),
                            c.missing.join(", "),
                        ]
                    }),
                );
            }
        }
        AnalyticsCommand::Rollup { json } => {
            let reports = analytics.roll_up_recent().await?;
            output::list(
                json,
                &reports,
                ["day", "import jobs", "suppliers", "products exported", "performance rows"],
                |r| {
                    [
                        r.day.map(|d| d.to_string()).unwrap_or_default(),
                        r.import_jobs.to_string(),
                        r.suppliers.to_string(),
                        r.products_exported.to_string(),
                        r.performance_rows.to_string(),
                    ]
                },
            );
        }
    }
    Ok(())
}
