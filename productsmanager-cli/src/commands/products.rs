//! `products create|get|update|delete|purge`.

use clap::Subcommand;
use productsmanager_core::Sdk;
use productsmanager_core::catalog::{NewProduct, Product, ProductPatch};
use productsmanager_core::input::{parse_id, parse_json};

use crate::{Failure, output};

#[derive(Debug, Subcommand)]
pub(crate) enum ProductCommand {
    /// Create a product from JSON (`{"gtin"?, "sku"?, "title", "description"?, "brand_id"?, "status"?,
    /// "attributes"?}`); prints it as JSON.
    Create {
        #[arg(long, value_name = "JSON")]
        json: String,
    },
    /// Show one product by id, GTIN, SKU or ASIN.
    Get {
        key: String,
        #[arg(long)]
        json: bool,
    },
    /// Change the fields given in JSON (others stay; `null` clears; `"version"` guards against lost updates).
    Update {
        id: String,
        #[arg(long, value_name = "JSON")]
        json: String,
    },
    /// Delete a product (softly: `purge` removes it for good).
    Delete { id: String },
    /// Remove a deleted product for good.
    Purge { id: String },
}

pub(crate) async fn run(sdk: &Sdk, command: ProductCommand) -> Result<(), Failure> {
    let products = sdk.products();
    match command {
        ProductCommand::Create { json } => output::json(&products.create(parse_json::<NewProduct>(&json)?).await?),
        ProductCommand::Get { key, json } => {
            let product = products.find(&key).await?;
            if json { output::json(&product) } else { table(std::slice::from_ref(&product)) }
        }
        ProductCommand::Update { id, json } => {
            output::json(&products.patch(parse_id("id", &id)?, parse_json::<ProductPatch>(&json)?).await?);
        }
        ProductCommand::Delete { id } => {
            let id = parse_id("id", &id)?;
            products.delete(id).await?;
            println!("deleted product {id} (purge removes it for good)");
        }
        ProductCommand::Purge { id } => {
            let id = parse_id("id", &id)?;
            products.purge(id).await?;
            println!("purged product {id}");
        }
    }
    Ok(())
}

pub(crate) fn table(products: &[Product]) {
    output::table(
        ["id", "gtin", "sku", "title", "status", "version"],
        products.iter().map(|p| {
            [
                p.id.to_string(),
                output::or_dash(p.gtin.map(|g| g.to_string()).as_deref()),
                output::or_dash(p.sku.as_ref().map(|s| s.as_str())),
                p.title.clone(),
                p.status.to_string(),
                p.version.to_string(),
            ]
        }),
    );
}
