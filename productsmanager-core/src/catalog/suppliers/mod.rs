//! Suppliers: who sends us catalogs and offers.

mod model;
mod repo;
mod service;

pub use model::{NewSupplier, Supplier, SupplierPatch};
pub(crate) use repo::{ids_by_code, names_of, ranks};
pub use service::SupplierService;
