//! `variants`, `bundles` and `seo`.

use clap::Subcommand;
use productsmanager_core::Sdk;
use productsmanager_core::catalog::{NewBundleItem, NewSeo, NewVariant};
use productsmanager_core::input::parse_json;

use crate::{Failure, output};

#[derive(Debug, Subcommand)]
pub(crate) enum VariantCommand {
    /// Make a product a variant of a parent (`{"parent_product_id", "product_id", "options": {"size": "M"}}`).
    Set {
        #[arg(long, value_name = "JSON")]
        json: String,
    },
    /// The variants of a parent product (id, GTIN, SKU or ASIN).
    List {
        parent: String,
        #[arg(long)]
        json: bool,
    },
    /// Make a variant a stand-alone product again.
    Remove { product: String },
}

#[derive(Debug, Subcommand)]
pub(crate) enum BundleCommand {
    /// Make a product a bundle of components (`[{"product_id", "quantity"?}, …]`).
    Set {
        product: String,
        #[arg(long, value_name = "JSON")]
        json: String,
    },
    /// The components of a bundle.
    Get {
        product: String,
        #[arg(long)]
        json: bool,
    },
    /// Make a bundle a plain product again.
    Remove { product: String },
}

#[derive(Debug, Subcommand)]
pub(crate) enum SeoCommand {
    /// Set SEO metadata (`{"product_id", "locale", "slug"?, "meta_title"?, "meta_description"?}`).
    Set {
        #[arg(long, value_name = "JSON")]
        json: String,
    },
    /// A product's metadata in every locale.
    List {
        product: String,
        #[arg(long)]
        json: bool,
    },
}

pub(crate) async fn variants(sdk: &Sdk, command: VariantCommand) -> Result<(), Failure> {
    match command {
        VariantCommand::Set { json } => output::json(&sdk.variants().set(parse_json::<NewVariant>(&json)?).await?),
        VariantCommand::List { parent, json } => {
            let parent = sdk.products().find(&parent).await?.id;
            let variants = sdk.variants().of(parent).await?;
            output::list(json, &variants, ["product", "options"], |v| {
                let options: Vec<String> = v.options.0.iter().map(|(k, val)| format!("{k}={val}")).collect();
                [v.product_id.to_string(), options.join(", ")]
            });
        }
        VariantCommand::Remove { product } => {
            let id = sdk.products().find(&product).await?.id;
            sdk.variants().remove(id).await?;
            println!("product {id} is no longer a variant");
        }
    }
    Ok(())
}

pub(crate) async fn bundles(sdk: &Sdk, command: BundleCommand) -> Result<(), Failure> {
    match command {
        BundleCommand::Set { product, json } => {
            let id = sdk.products().find(&product).await?.id;
            output::json(&sdk.bundles().set(id, parse_json::<Vec<NewBundleItem>>(&json)?).await?);
        }
        BundleCommand::Get { product, json } => {
            let id = sdk.products().find(&product).await?.id;
            let bundle = sdk.bundles().get(id).await?;
            if json {
                output::json(&bundle);
            } else {
                output::table(
                    ["component", "quantity"],
                    bundle.items.iter().map(|i| [i.product_id.to_string(), i.quantity.to_string()]),
                );
            }
        }
        BundleCommand::Remove { product } => {
            let id = sdk.products().find(&product).await?.id;
            sdk.bundles().remove(id).await?;
            println!("product {id} is no longer a bundle");
        }
    }
    Ok(())
}

pub(crate) async fn seo(sdk: &Sdk, command: SeoCommand) -> Result<(), Failure> {
    match command {
        SeoCommand::Set { json } => output::json(&sdk.seo().set(parse_json::<NewSeo>(&json)?).await?),
        SeoCommand::List { product, json } => {
            let id = sdk.products().find(&product).await?.id;
            let all = sdk.seo().of(id).await?;
            output::list(json, &all, ["locale", "slug", "meta title"], |s| {
                [s.locale.clone(), s.slug.clone(), output::or_dash(s.meta_title.as_deref())]
            });
        }
    }
    Ok(())
}
