//! Provenance and survivorship of product fields: which source set each field's current value, and when (a
//! person, a supplier's import, a platform, Code2ASIN), and the rules that decide whether a source may change it.
//!
//! A product records its origin (who created it); a field whose value a later source set, or that a person locked
//! or released, has a row of its own (`product_field_sources`). The default rules protect people's work: a value a
//! person set is never changed by an import until the person releases it (the field then follows the suppliers),
//! a locked field is changed by no source, and among suppliers the one that created the product comes first — a
//! field another supplier set stays until a supplier that comes first gives it.

mod model;
pub(crate) mod rederive;
pub(crate) mod repo;
pub(crate) mod rules;

pub(crate) use model::{
    CATEGORIES_FIELD, IMAGES_FIELD, attribute_field, is_locale, is_provenance_field, parse_seo_value, price_field,
    price_windows_field, seo_field, seo_value, shown_value, stock_field,
};
pub use model::{ChangeKind, FieldAction, FieldGroup, FieldProvenance, FieldSource, ProductChange, SupplierRules};
pub(crate) use rules::{FieldOwner, Kept, SupplierOrder, SupplierRanks, Survivorship, Unranked, implicit_source};
