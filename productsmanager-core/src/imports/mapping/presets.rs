//! Built-in templates for files whose layout is known, so they import without writing a mapping. A preset builds
//! its [`Template`] from the file's header (the columns a platform writes vary with its settings and plugins).

use serde::{Deserialize, Serialize};

use super::template::{ColumnMapping, Target, Template, UnmappedColumns};
use crate::catalog::PriceType;
use crate::imports::ImportError;

/// A known file layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// Our own column names: `sku` (the supplier SKU, required), `gtin`, `title`, `description`, `brand`,
    /// `category` (`Home > Garden`), `price`, `sale_price`, `msrp`, `cost`, `currency`, `stock`, `lead_time_days`,
    /// `image_url` (several separated by `|`), `status`, `parent_sku`, `attribute:<name>`, `option:<axis>`.
    Native,
}

impl Preset {
    /// Every preset.
    pub const ALL: [Preset; 1] = [Preset::Native];

    /// Lowercase name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Preset::Native => "native",
        }
    }

    /// Parses a preset name.
    pub fn parse(text: &str) -> Result<Self, ImportError> {
        Self::ALL.into_iter().find(|p| p.as_str().eq_ignore_ascii_case(text.trim())).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|p| p.as_str()).collect();
            ImportError::invalid("preset", format!("{text:?} is not a preset ({})", names.join(", ")))
        })
    }

    /// The template for a file with this header.
    pub fn template(self, headers: &[String]) -> Template {
        match self {
            Preset::Native => native(headers),
        }
    }
}

fn mapping(column: &str, to: Target) -> ColumnMapping {
    ColumnMapping { column: column.to_string(), to, transforms: Vec::new(), optional: false }
}

/// Columns named as ours; any other column is refused (a typo must not drop data silently).
fn native(headers: &[String]) -> Template {
    let mut columns = Vec::new();
    for header in headers {
        let name = header.trim().to_ascii_lowercase();
        let to = match name.as_str() {
            "sku" => Target::SupplierSku,
            "gtin" => Target::Gtin,
            "title" => Target::Title,
            "description" => Target::Description,
            "brand" => Target::Brand,
            "category" => Target::Category { separator: ">".into() },
            "price" => Target::Price { price_type: PriceType::Retail, currency: None },
            "sale_price" => Target::Price { price_type: PriceType::Sale, currency: None },
            "msrp" => Target::Price { price_type: PriceType::Msrp, currency: None },
            "cost" => Target::Cost,
            "currency" => Target::Currency,
            "stock" => Target::Stock,
            "lead_time_days" => Target::LeadTimeDays,
            "image_url" => Target::Image { separator: Some("|".into()) },
            "status" => Target::Status,
            "parent_sku" => Target::ParentSku,
            _ => {
                // The name keeps its case: `attribute:Colour` is the attribute `Colour`.
                let original = header.trim();
                let (kind, rest) = original.split_once(':').unwrap_or(("", ""));
                match (kind.to_ascii_lowercase().as_str(), rest.trim()) {
                    (_, "") => continue,
                    ("attribute", rest) => Target::Attribute { name: rest.to_string() },
                    ("option", rest) => Target::VariantOption { axis: rest.to_string() },
                    _ => continue, // refused as unexpected by the header check
                }
            }
        };
        columns.push(mapping(header, to));
    }
    if !columns.iter().any(|c| c.to == Target::SupplierSku) {
        // Named in the header check as a missing column.
        columns.push(mapping("sku", Target::SupplierSku));
    }
    Template { columns, currency: None, unmapped_columns: UnmappedColumns::Refuse }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_maps_our_names_and_refuses_others() {
        let headers: Vec<String> =
            ["SKU", "gtin", "title", "price", "currency", "attribute:Colour", "option:size", "image_url"]
                .map(String::from)
                .to_vec();
        let mapper = Preset::Native.template(&headers).mapper(&headers).unwrap();
        let row = mapper.map(&["A1", "", "Pot", "9.90", "EUR", "red", "M", "a.jpg|b.jpg"].map(String::from));
        assert_eq!(row.attributes[0].0, "Colour");
        assert_eq!(row.variant_options[0].0, "size");
        assert_eq!(row.images.len(), 2);
        let typo: Vec<String> = ["sku", "titel"].map(String::from).to_vec();
        let error = Preset::Native.template(&typo).mapper(&typo).unwrap_err().to_string();
        assert!(error.contains(r#"unexpected columns: "titel""#), "{error}");
        let no_sku: Vec<String> = ["title"].map(String::from).to_vec();
        let error = Preset::Native.template(&no_sku).mapper(&no_sku).unwrap_err().to_string();
        assert!(error.contains(r#"missing columns: "sku""#), "{error}");
        assert!(Preset::parse("NATIVE").is_ok());
        assert!(Preset::parse("csv").unwrap_err().to_string().contains("native"));
    }
}
