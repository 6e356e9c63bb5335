//! `suppliers create|get|list|update|delete`.

use productsmanager_core::Sdk;
use productsmanager_core::catalog::{NewSupplier, Supplier, SupplierPatch};
use productsmanager_core::input::parse_json;

use super::entity::EntityCommand;
use crate::{Failure, output};

pub(crate) async fn run(sdk: &Sdk, command: EntityCommand) -> Result<(), Failure> {
    let suppliers = sdk.suppliers();
    match command {
        EntityCommand::Create { json } => output::json(&suppliers.create(parse_json::<NewSupplier>(&json)?).await?),
        EntityCommand::Get { key, json } => {
            let supplier = suppliers.find(&key).await?;
            if json { output::json(&supplier) } else { table(std::slice::from_ref(&supplier)) }
        }
        EntityCommand::List { json } => {
            let all = suppliers.list().await?;
            if json { output::json(all.as_ref()) } else { table(&all) }
        }
        EntityCommand::Update { id, json } => {
            let found = suppliers.find(&id).await?;
            output::json(&suppliers.patch(found.id, parse_json::<SupplierPatch>(&json)?).await?);
        }
        EntityCommand::Delete { id } => {
            let id = suppliers.find(&id).await?.id;
            suppliers.delete(id).await?;
            println!("deleted supplier {id}");
        }
    }
    Ok(())
}

fn table(suppliers: &[Supplier]) {
    output::table(
        ["id", "code", "name", "country", "currency", "active"],
        suppliers.iter().map(|s| {
            [
                s.id.to_string(),
                s.code.clone(),
                s.name.clone(),
                output::or_dash(s.country.as_deref()),
                output::or_dash(s.default_currency.as_deref()),
                if s.is_active { "yes" } else { "no" }.to_string(),
            ]
        }),
    );
}
