//! `export file`: a feed written now to a local file, with no platform configured; `export jobs|job|download`:
//! the feed jobs kept in the object store.

use std::path::PathBuf;
use std::time::Duration;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Subcommand};
use indicatif::ProgressBar;
use productsmanager_core::Sdk;
use productsmanager_core::catalog::{CurrencyCode, PriceType};
use productsmanager_core::exports::{
    ChannelSettings, ExportFilters, ExportJob, ExportMode, FeedFormat, FeedRequest, NewPlatform, PlatformCredentials,
    PlatformKind, PriceRule,
};
use productsmanager_core::input::{parse_id, parse_json};

use super::products::ProductSelection;
use crate::{Failure, output};

#[derive(Debug, Subcommand)]
pub(crate) enum ExportCommand {
    /// Write a feed file now: `export file --format shopify-csv --out shopify.csv [filters]`.
    File(Box<FileArgs>),
    /// Push the catalog to a platform now, with a progress bar: only what changed since its last run, or
    /// everything with `--full`.
    Run {
        /// The platform (id or name).
        platform: String,
        #[arg(long)]
        full: bool,
        #[arg(long)]
        json: bool,
    },
    /// Sales platforms: `platform add --name shop --platform woocommerce|shopify|prestashop --endpoint URL`
    /// (WooCommerce's key and secret from `WOOCOMMERCE_KEY` and `WOOCOMMERCE_SECRET`, Shopify's token from
    /// `SHOPIFY_ACCESS_TOKEN`, PrestaShop's key from `PRESTASHOP_KEY`), `platform list`, `platform delete NAME`.
    Platform {
        #[command(subcommand)]
        command: PlatformCommand,
    },
    /// What became of each product in a platform run (`--status failed` for the failures).
    Items {
        id: String,
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// The latest export jobs, newest first.
    Jobs {
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// The next page: the `next_cursor` of the previous one (`--json` prints it).
        #[arg(long)]
        cursor: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// One export job: state, counters, file.
    Job {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Save the file of a feed job.
    Download {
        id: String,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum PlatformCommand {
    Add {
        #[arg(long)]
        name: String,
        /// `woocommerce`, `shopify` or `prestashop`.
        #[arg(long)]
        platform: String,
        /// The API's base URL (WooCommerce: `https://shop.example/wp-json/wc/v3`).
        #[arg(long)]
        endpoint: String,
        /// Channel settings and filters as JSON: `{"settings": {"currency": "EUR"}, "filters": {"status": "active"}}`.
        #[arg(long)]
        json: Option<String>,
    },
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove a platform (id or name).
    Delete { platform: String },
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PlatformOptions {
    #[serde(default)]
    filters: ExportFilters,
    #[serde(default)]
    settings: ChannelSettings,
}

#[derive(Debug, Args)]
pub(crate) struct FileArgs {
    #[arg(long, value_parser = format_parser())]
    format: FeedFormat,
    /// The file to write (written under a temporary name beside it, renamed when complete).
    #[arg(long)]
    out: PathBuf,
    /// Which products (Google Merchant feeds take active ones only in any case).
    #[command(flatten)]
    selection: ProductSelection,
    /// The price sold at: retail (default), sale or msrp.
    #[arg(long)]
    price_type: Option<String>,
    /// Only prices in this currency.
    #[arg(long)]
    currency: Option<String>,
    /// Markup on the prices, in percent.
    #[arg(long, allow_negative_numbers = true)]
    markup_percent: Option<f64>,
    /// Prices end with these cents (99: 12.34 → 12.99).
    #[arg(long)]
    ending_minor: Option<i64>,
    /// Product page URL with `{key}` or `{id}` (Google Merchant's `link`).
    #[arg(long)]
    link_template: Option<String>,
    /// Print one JSON summary instead of the progress and the table.
    #[arg(long)]
    json: bool,
}

fn format_parser() -> impl TypedValueParser<Value = FeedFormat> {
    PossibleValuesParser::new(FeedFormat::ALL.map(FeedFormat::cli_name))
        .try_map(|name: String| name.parse::<FeedFormat>().map_err(|e| e.to_string()))
}

pub(crate) async fn run(sdk: &Sdk, command: ExportCommand) -> Result<(), Failure> {
    let exports = sdk.exports();
    match command {
        ExportCommand::File(args) => write_file(sdk, *args).await,
        ExportCommand::Run { platform, full, json } => {
            let mode = if full { ExportMode::Full } else { ExportMode::Delta };
            let bar = if json { ProgressBar::hidden() } else { ProgressBar::new_spinner() };
            bar.set_style(output::progress_style("{spinner} [{elapsed_precise}] {human_pos} products  {rate}  {msg}"));
            bar.enable_steady_tick(Duration::from_millis(200));
            let shown = bar.clone();
            let job = exports
                .run_platform_now(&platform, mode, None, move |counts| {
                    shown.set_position(counts.processed);
                    shown.set_message(format!("{} failed", counts.failed));
                })
                .await;
            bar.finish_and_clear();
            let job = job?;
            if json {
                output::json(&job);
            } else {
                output::table(
                    ["job", "products", "created", "updated", "unchanged", "failed", "skipped"],
                    [[
                        job.id.to_string(),
                        job.items_processed.to_string(),
                        job.items_created.to_string(),
                        job.items_updated.to_string(),
                        job.items_unchanged.to_string(),
                        job.items_failed.to_string(),
                        job.items_skipped.to_string(),
                    ]],
                );
                if job.items_failed > 0 {
                    println!("failed products: productsmanager export items {} --status failed", job.id);
                }
            }
            Ok(())
        }
        ExportCommand::Platform { command } => match command {
            PlatformCommand::Add { name, platform, endpoint, json } => {
                let options: PlatformOptions = match json {
                    Some(text) => parse_json(&text)?,
                    None => PlatformOptions::default(),
                };
                let secret = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
                let input = NewPlatform {
                    name,
                    platform: platform.parse::<PlatformKind>()?,
                    endpoint,
                    credentials: PlatformCredentials {
                        key: secret("WOOCOMMERCE_KEY").or_else(|| secret("PRESTASHOP_KEY")),
                        secret: secret("WOOCOMMERCE_SECRET"),
                        access_token: secret("SHOPIFY_ACCESS_TOKEN"),
                    },
                    filters: options.filters,
                    settings: options.settings,
                    created_by: None,
                };
                output::json(&exports.add_platform(input).await?);
                Ok(())
            }
            PlatformCommand::List { json } => {
                let platforms = exports.platforms().await?;
                output::list(json, &platforms, ["id", "name", "platform", "endpoint", "active", "last success"], |p| {
                    [
                        p.id.to_string(),
                        p.name.clone(),
                        output::compact(&p.platform),
                        p.endpoint.clone(),
                        if p.is_active { "yes" } else { "no" }.to_string(),
                        output::or_dash(p.last_success_at.map(|t| t.to_rfc3339()).as_deref()),
                    ]
                });
                Ok(())
            }
            PlatformCommand::Delete { platform } => {
                exports.delete_platform(&platform).await?;
                println!("deleted platform {platform}");
                Ok(())
            }
        },
        ExportCommand::Items { id, status, limit, json } => {
            let items = exports.items(parse_id("id", &id)?, status.as_deref(), None, limit).await?;
            output::list(json, &items, ["product", "status", "remote id", "attempts", "error"], |i| {
                [
                    i.product_id.to_string(),
                    i.status.clone(),
                    output::or_dash(i.remote_id.as_deref()),
                    i.attempts.to_string(),
                    output::or_dash(i.error.as_deref()),
                ]
            });
            Ok(())
        }
        ExportCommand::Jobs { limit, cursor, json } => {
            let page = exports.jobs_page(limit, cursor.as_deref()).await?;
            if json {
                output::json(&page);
            } else {
                jobs_table(&page.items);
                if let Some(next) = &page.next_cursor {
                    println!("\nolder jobs: productsmanager export jobs --cursor {next}");
                }
            }
            Ok(())
        }
        ExportCommand::Job { id, json } => {
            let job = exports.job(parse_id("id", &id)?).await?;
            if json {
                output::json(&job);
            } else {
                jobs_table(std::slice::from_ref(&job));
                if let Some(error) = &job.last_error {
                    println!("\nlast error: {error}");
                }
            }
            Ok(())
        }
        ExportCommand::Download { id, out } => {
            let size = exports.save_file(parse_id("id", &id)?, &out).await?;
            println!("{} ({size} bytes)", out.display());
            Ok(())
        }
    }
}

fn jobs_table(jobs: &[ExportJob]) {
    output::table(
        ["id", "state", "kind", "processed", "created", "updated", "unchanged", "failed", "skipped", "created at"],
        jobs.iter().map(|j| {
            [
                j.id.to_string(),
                j.state.clone(),
                match (&j.format, j.platform_id) {
                    (Some(format), _) => format.cli_name().to_string(),
                    (None, Some(_)) => format!("platform ({})", j.mode),
                    (None, None) => j.mode.clone(),
                },
                output::count_of(j.items_processed, j.items_total),
                output::count(j.items_created),
                output::count(j.items_updated),
                output::count(j.items_unchanged),
                output::count(j.items_failed),
                output::count(j.items_skipped),
                j.created_at.to_rfc3339(),
            ]
        }),
    );
}

async fn write_file(sdk: &Sdk, args: FileArgs) -> Result<(), Failure> {
    let filters = args.selection.resolve(sdk).await?;
    let settings = ChannelSettings {
        price_type: args.price_type.as_deref().map(str::parse::<PriceType>).transpose()?,
        currency: args.currency.as_deref().map(|c| CurrencyCode::parse_field("currency", c)).transpose()?,
        price_rule: PriceRule { markup_percent: args.markup_percent, ending_minor: args.ending_minor },
        link_template: args.link_template.clone(),
        ..Default::default()
    };
    let request = FeedRequest { format: args.format, filters, settings };
    let bar = if args.json { ProgressBar::hidden() } else { ProgressBar::new_spinner() };
    bar.set_style(output::progress_style("{spinner} [{elapsed_precise}] {human_pos} products  {rate}"));
    bar.enable_steady_tick(Duration::from_millis(200));
    let shown = bar.clone();
    let summary = sdk.exports().write_feed(&request, &args.out, move |p| shown.set_position(p.products)).await;
    bar.finish_and_clear();
    let summary = summary?;
    if args.json {
        let mut value = serde_json::to_value(&summary).unwrap_or_default();
        value["file"] = serde_json::json!(args.out);
        value["format"] = serde_json::json!(args.format);
        output::json(&value);
    } else {
        output::table(
            ["file", "format", "products", "items", "skipped", "bytes"],
            [[
                args.out.display().to_string(),
                args.format.cli_name().to_string(),
                summary.products.to_string(),
                summary.items.to_string(),
                summary.skipped.to_string(),
                summary.bytes.to_string(),
            ]],
        );
        for (attribute, items) in &summary.missing {
            let fix = match attribute.as_str() {
                "link" => " (give --link-template with the shop's product URL)",
                "gtin" => " (neither a GTIN nor a SKU as MPN: sent with identifier_exists = no)",
                "availability_date" => {
                    " (on backorder or preorder; the catalog keeps no date: add it in Merchant Center)"
                }
                _ => "",
            };
            println!("{} items without {attribute}, which the channel requires{fix}", output::count(*items));
        }
    }
    Ok(())
}
