//! Suppliers: who sends us catalogs and offers.

mod model;
mod repo;
mod service;

pub use model::{NewSupplier, Supplier, SupplierPatch};
pub(crate) use repo::{names_of, ranks};
pub use service::SupplierService;
