//! The catalog domain: products identified by GTIN, supplier offers, categories, brands, prices and stock.
//!
//! One service per entity, each reached from the [`Sdk`](crate::Sdk) (`sdk.brands()`, …). Inputs are parsed
//! into typed values at the boundary ([`Gtin`], [`Sku`], …); every refusal is a [`CatalogError`] naming the field.

mod asins;
mod brands;
mod categories;
pub(crate) mod codes;
pub(crate) mod common;
mod error;
pub(crate) mod identifiers;
mod image_urls;
pub(crate) mod merges;
mod offers;
pub(crate) mod prices;
pub(crate) mod products;
pub(crate) mod provenance;
mod stock;
pub(crate) mod suppliers;
mod variants;

pub use asins::{AsinService, GtinProduct};
pub(crate) use brands::ALL_BRANDS_KEY;
pub use brands::{Brand, BrandPatch, BrandService, NewBrand};
pub use categories::{
    Category, CategoryNode, CategoryPatch, CategoryService, NewCategory, NewTaxonomy, Taxonomy, TaxonomyKind,
};
pub use codes::{CountryCode, CurrencyCode, MAX_AMOUNT_MINOR, Money};
pub use error::CatalogError;
pub use identifiers::{Asin, Gtin, GtinError, GtinRepair, IdentifierError, Sku};
pub use image_urls::{ImageUrlService, PendingImage};
pub(crate) use merges::MovedFile;
pub use merges::{
    DuplicateCandidate, DuplicateQuery, DuplicateSide, MAX_DUPLICATES, MergeCounts, MergeService, ProductMerge,
    UNDO_DAYS,
};
pub use offers::{NewOffer, Offer, OfferListEntry, OfferService, SupplierOffer, best_offer};
pub use prices::{NewPrice, Price, PriceService, PriceType, current_prices};
pub use products::{
    Attribute, AttributeValue, DEFAULT_PAGE, Listed, MAX_PAGE, NewProduct, Page, Product, ProductPatch, ProductQuery,
    ProductRecord, ProductService, ProductSort, ProductStatus, RecordReader, VariantAxis, VariantOf,
};
pub use provenance::{ChangeKind, FieldAction, FieldGroup, FieldProvenance, FieldSource, ProductChange, SupplierRules};
pub use stock::{Availability, NewStockLevel, StockLevel, StockService, StockTotal};
pub use suppliers::{NewSupplier, Supplier, SupplierPatch, SupplierService};
pub use variants::{
    Bundle, BundleItem, BundleService, META_DESCRIPTION_MAX, META_TITLE_MAX, NewBundleItem, NewSeo, NewVariant, Seo,
    SeoService, Variant, VariantService,
};
