//! Mapping templates: how a supplier's columns become our fields. So far the transforms applied to a column's value
//! ([`Transform`]); the templates and presets that use them come with the rest of the import engine.

mod transform;

pub use transform::{CompiledTransforms, Transform};
