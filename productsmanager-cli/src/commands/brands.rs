//! `brands create|get|list|update|delete`.

use clap::Subcommand;
use productsmanager_core::Sdk;
use productsmanager_core::catalog::{Brand, BrandPatch, NewBrand};
use productsmanager_core::input::{parse_id, parse_json};

use crate::{Failure, output};

#[derive(Debug, Subcommand)]
pub(crate) enum BrandCommand {
    /// Create a brand from JSON (`{"name": …, "slug"?, "description"?, "website_url"?, "logo_url"?}`); prints it.
    Create {
        #[arg(long, value_name = "JSON")]
        json: String,
    },
    /// Show one brand by id or slug.
    Get {
        key: String,
        #[arg(long)]
        json: bool,
    },
    /// List every brand.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Change the fields given in JSON (others stay; `null` clears); prints the brand.
    Update {
        id: String,
        #[arg(long, value_name = "JSON")]
        json: String,
    },
    /// Delete a brand (its products stay, without a brand).
    Delete { id: String },
}

pub(crate) async fn run(sdk: &Sdk, command: BrandCommand) -> Result<(), Failure> {
    let brands = sdk.brands();
    match command {
        BrandCommand::Create { json } => output::json(&brands.create(parse_json::<NewBrand>(&json)?).await?),
        BrandCommand::Get { key, json } => {
            let brand = brands.find(&key).await?;
            if json { output::json(&brand) } else { table(std::slice::from_ref(&brand)) }
        }
        BrandCommand::List { json } => {
            let all = brands.list().await?;
            if json { output::json(all.as_ref()) } else { table(&all) }
        }
        BrandCommand::Update { id, json } => {
            let id = parse_id("id", &id)?;
            output::json(&brands.patch(id, parse_json::<BrandPatch>(&json)?).await?);
        }
        BrandCommand::Delete { id } => {
            let id = parse_id("id", &id)?;
            brands.delete(id).await?;
            println!("deleted brand {id}");
        }
    }
    Ok(())
}

fn table(brands: &[Brand]) {
    output::table(
        ["id", "slug", "name", "website"],
        brands
            .iter()
            .map(|b| [b.id.to_string(), b.slug.clone(), b.name.clone(), output::or_dash(b.website_url.as_deref())]),
    );
}
