//! Variants (a parent product with axes such as size and colour; each child is a product), bundles (a product
//! sold as a set of others) and SEO metadata per locale: the relations between products.

mod model;
mod repo;
mod service;

pub use model::{Bundle, BundleItem, NewBundleItem, NewSeo, NewVariant, Seo, Variant};
pub(crate) use repo::{seo_locales, seo_of_products};
pub use service::{BundleService, SeoService, VariantService};

/// The longest meta title, in characters: what the shops let theirs be (Magento's and PrestaShop's 255), so that
/// their exports import whole.
pub const META_TITLE_MAX: usize = 255;
/// The longest meta description, in characters (PrestaShop's 512; Magento's is longer, and is cut by search engines
/// long before).
pub const META_DESCRIPTION_MAX: usize = 1000;
