//! The catalog domain: products identified by GTIN, supplier offers, categories, brands, prices and stock.
//!
//! One service per entity, each reached from the [`Sdk`](crate::Sdk) (`sdk.brands()`, …). Inputs are parsed
//! into typed values at the boundary ([`Gtin`], [`Sku`], …); every refusal is a [`CatalogError`] naming the field.

mod brands;
mod codes;
pub(crate) mod common;
mod error;
mod identifiers;
mod products;
mod suppliers;

pub use brands::{Brand, BrandPatch, BrandService, NewBrand};
pub use codes::{CountryCode, CurrencyCode};
pub use error::CatalogError;
pub use identifiers::{Asin, Gtin, GtinError, IdentifierError, Sku};
pub use products::{Attribute, AttributeValue, NewProduct, Product, ProductPatch, ProductService, ProductStatus};
pub use suppliers::{NewSupplier, Supplier, SupplierPatch, SupplierService};
