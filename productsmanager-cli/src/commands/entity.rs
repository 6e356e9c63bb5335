//! The create/get/list/update/delete commands shared by the simple catalog entities (brands, suppliers).

use clap::Subcommand;

/// `<entity> create|get|list|update|delete`.
#[derive(Debug, Subcommand)]
pub(crate) enum EntityCommand {
    /// Create from JSON; prints the created record as JSON.
    Create {
        #[arg(long, value_name = "JSON")]
        json: String,
    },
    /// Show one record by id or by its key (slug, code).
    Get {
        #[arg(value_name = "KEY")]
        key: String,
        #[arg(long)]
        json: bool,
    },
    /// List every record.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Change the fields given in JSON (others stay; `null` clears one); prints the record. By id or key.
    Update {
        #[arg(value_name = "KEY")]
        id: String,
        #[arg(long, value_name = "JSON")]
        json: String,
    },
    /// Delete a record, by id or key.
    Delete {
        #[arg(value_name = "KEY")]
        id: String,
    },
}
