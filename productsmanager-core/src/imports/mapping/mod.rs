//! Mapping templates: how a supplier's columns become our fields ([`Template`], stored as JSON and versioned), the
//! transforms applied to a column's value ([`Transform`]) and the built-in [`Preset`]s.

mod presets;
mod template;
mod transform;
mod vocabulary;

pub(crate) use presets::{AkeneoStructure, StructureReader};
pub use presets::{ColumnUse, Preset, Shaper};
pub(crate) use presets::{DEFAULT_LOCATION, NATIVE_PRICE_COLUMNS, product_stock_column};
pub(crate) use template::DEFAULT_SEO_LOCALE;
pub use template::{
    Cell, CellError, ColumnMapping, HeaderText, IMPORT_SEO_LOCALE, InvalidGtin, MappedRow, Mapper, RelativeImages,
    SeoPart, SourceCatalog, Target, Template, UnmappedColumns, WindowPart,
};
pub use transform::{CompiledTransforms, Transform};
pub(crate) use vocabulary::Vocabulary;
pub use vocabulary::VocabularyEntry;
