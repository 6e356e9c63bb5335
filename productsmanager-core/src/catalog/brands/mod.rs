//! Brands: the makers products are sold under.

mod model;
mod repo;
mod service;

pub use model::{Brand, BrandPatch, NewBrand};
pub use service::BrandService;
