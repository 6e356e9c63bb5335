//! Variants (a parent product with axes such as size and colour; each child is a product), bundles (a product
//! sold as a set of others) and SEO metadata per locale: the relations between products.

mod model;
mod repo;
mod service;

pub use model::{Bundle, BundleItem, NewBundleItem, NewSeo, NewVariant, Seo, Variant};
pub(crate) use repo::{seo_locales, seo_of_products};
pub use service::{BundleService, SeoService, VariantService};
