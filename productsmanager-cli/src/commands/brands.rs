//! `brands create|get|list|update|delete`.

use productsmanager_core::Sdk;
use productsmanager_core::catalog::{Brand, BrandPatch, NewBrand};
use productsmanager_core::input::parse_json;

use super::entity::EntityCommand;
use crate::{Failure, output};

pub(crate) async fn run(sdk: &Sdk, command: EntityCommand) -> Result<(), Failure> {
    let brands = sdk.brands();
    match command {
        EntityCommand::Create { json } => output::json(&brands.create(parse_json::<NewBrand>(&json)?).await?),
        EntityCommand::Get { key, json } => {
            let brand = brands.find(&key).await?;
            if json { output::json(&brand) } else { table(std::slice::from_ref(&brand)) }
        }
        EntityCommand::List { json } => {
            let all = brands.list().await?;
            if json { output::json(all.as_ref()) } else { table(&all) }
        }
        EntityCommand::Update { id, json } => {
            let found = brands.find(&id).await?;
            output::json(&brands.patch(found.id, parse_json::<BrandPatch>(&json)?).await?);
        }
        EntityCommand::Delete { id } => {
            let id = brands.find(&id).await?.id;
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
