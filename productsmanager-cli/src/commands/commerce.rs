//! `offers`, `prices` and `stock`: record / set with JSON, list per product.

use clap::Subcommand;
use productsmanager_core::Sdk;
use productsmanager_core::catalog::{NewOffer, NewPrice, NewStockLevel};
use productsmanager_core::input::parse_json;

use crate::{Failure, output};

#[derive(Debug, Subcommand)]
pub(crate) enum OfferCommand {
    /// Record a supplier offer from JSON (`{"product_id", "supplier_id", "supplier_sku", "cost"?: {"amount_minor",
    /// "currency"}, "stock"?, "lead_time_days"?}`); the same supplier SKU again updates it.
    Record {
        #[arg(long, value_name = "JSON")]
        json: String,
    },
    /// The offers for a product (id, GTIN, SKU or ASIN).
    List {
        product: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum PriceCommand {
    /// Set a price from JSON (`{"product_id", "price_type", "amount": {"amount_minor", "currency"},
    /// "valid_from"?, "valid_to"?}`).
    Set {
        #[arg(long, value_name = "JSON")]
        json: String,
    },
    /// The prices of a product (id, GTIN, SKU or ASIN); `--current` only those that apply now.
    List {
        product: String,
        #[arg(long)]
        current: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum StockCommand {
    /// Set a stock level from JSON (`{"product_id", "location"?, "quantity", "reserved"?}`).
    Set {
        #[arg(long, value_name = "JSON")]
        json: String,
    },
    /// The stock levels of a product (id, GTIN, SKU or ASIN).
    List {
        product: String,
        #[arg(long)]
        json: bool,
    },
}

pub(crate) async fn offers(sdk: &Sdk, command: OfferCommand) -> Result<(), Failure> {
    match command {
        OfferCommand::Record { json } => output::json(&sdk.offers().record(parse_json::<NewOffer>(&json)?).await?),
        OfferCommand::List { product, json } => {
            let product = sdk.products().find(&product).await?;
            let offers = sdk.offers().for_product(product.id).await?;
            if json {
                output::json(&offers);
            } else {
                let best = product.best_offer.map(|o| o.id);
                output::table(
                    ["supplier sku", "cost", "stock", "lead time", "best", "not taken by the product"],
                    offers.iter().map(|o| {
                        let not_taken: Vec<String> = o.not_taken.iter().map(|(f, v)| format!("{f}: {v}")).collect();
                        [
                            o.supplier_sku.clone(),
                            output::or_dash(o.cost.map(|c| c.to_string()).as_deref()),
                            output::or_dash(o.stock.map(|s| s.to_string()).as_deref()),
                            output::or_dash(o.lead_time_days.map(|d| format!("{d} d")).as_deref()),
                            if Some(o.id) == best { "*" } else { "" }.to_string(),
                            not_taken.join("; "),
                        ]
                    }),
                );
            }
        }
    }
    Ok(())
}

pub(crate) async fn prices(sdk: &Sdk, command: PriceCommand) -> Result<(), Failure> {
    match command {
        PriceCommand::Set { json } => output::json(&sdk.prices().set(parse_json::<NewPrice>(&json)?).await?),
        PriceCommand::List { product, current, json } => {
            let id = sdk.products().find(&product).await?.id;
            let prices = if current {
                sdk.prices().current(id, chrono::Utc::now()).await?
            } else {
                sdk.prices().for_product(id).await?
            };
            output::list(json, &prices, ["type", "amount", "from", "to"], |p| {
                [
                    p.price_type.to_string(),
                    p.amount.to_string(),
                    output::or_dash(p.valid_from.map(|t| t.to_rfc3339()).as_deref()),
                    output::or_dash(p.valid_to.map(|t| t.to_rfc3339()).as_deref()),
                ]
            });
        }
    }
    Ok(())
}

pub(crate) async fn stock(sdk: &Sdk, command: StockCommand) -> Result<(), Failure> {
    match command {
        StockCommand::Set { json } => output::json(&sdk.stock().set(parse_json::<NewStockLevel>(&json)?).await?),
        StockCommand::List { product, json } => {
            let id = sdk.products().find(&product).await?.id;
            let levels = sdk.stock().levels(id).await?;
            output::list(json, &levels, ["location", "quantity", "reserved"], |l| {
                [l.location.clone(), l.quantity.to_string(), l.reserved.to_string()]
            });
        }
    }
    Ok(())
}
