//! Holder crate for the criterion benches in this folder (`cargo bench -p productsmanager-benches`).
