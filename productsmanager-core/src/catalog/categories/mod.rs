//! Categories: trees in several taxonomies (our own, a shop's, Google's product taxonomy), and the links of
//! products to them.
//!
//! Each category stores its materialised path (`/<root id>/…/<own id>/`), so a subtree is one prefix range,
//! moving a subtree is one `update`, and breadcrumbs are one query.

mod model;
mod repo;
mod service;

pub use model::{Category, CategoryNode, CategoryPatch, NewCategory, NewTaxonomy, Taxonomy, TaxonomyKind};
pub(crate) use repo::{links_of, name_paths};
pub use service::CategoryService;
