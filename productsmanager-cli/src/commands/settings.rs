//! `settings list|get|set|reset`: application settings (what `PUT /api/v1/settings/{key}` changes).

use clap::Subcommand;
use productsmanager_core::Sdk;
use productsmanager_core::input::parse_json;

use crate::{Failure, output};

#[derive(Debug, Subcommand)]
pub(crate) enum SettingsCommand {
    /// Every setting with its value and default.
    List {
        #[arg(long)]
        json: bool,
    },
    /// One setting.
    Get {
        key: String,
        #[arg(long)]
        json: bool,
    },
    /// Change a setting; the value is JSON (`'"shopify"'`, `30`) or a bare word for text (`shopify`).
    Set { key: String, value: String },
    /// Back to the default.
    Reset { key: String },
}

pub(crate) async fn run(sdk: &Sdk, command: SettingsCommand) -> Result<(), Failure> {
    let settings = sdk.settings();
    match command {
        SettingsCommand::List { json } => {
            let all = settings.list().await?;
            output::list(json, &all, ["setting", "value", "default", "description"], |s| {
                [s.key.clone(), s.value.to_string(), s.default.to_string(), s.description.clone()]
            });
        }
        SettingsCommand::Get { key, json } => {
            let setting = settings.setting(&key).await?;
            if json { output::json(&setting) } else { println!("{} = {}", setting.key, setting.value) }
        }
        SettingsCommand::Set { key, value } => {
            // A bare word is text: `settings set imports.default_preset shopify`.
            let value = parse_json(&value).unwrap_or(serde_json::Value::String(value));
            let setting = settings.set(&key, value, None).await?;
            println!("{} = {}", setting.key, setting.value);
        }
        SettingsCommand::Reset { key } => {
            let setting = settings.reset(&key).await?;
            println!("{} = {} (default)", setting.key, setting.value);
        }
    }
    Ok(())
}
