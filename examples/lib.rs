//! Holder crate for the examples in this folder; see `README.md` in the repository root.
