//! Brands: the makers products are sold under.

mod model;
mod repo;
mod service;

pub use model::{Brand, BrandPatch, NewBrand};
pub(crate) use repo::names_of;
pub(crate) use service::ALL_KEY as ALL_BRANDS_KEY;
pub use service::BrandService;
