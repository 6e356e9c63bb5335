//! Duplicate products and their merge (issue 25): the duplicates report finds products that are probably one
//! (brand and title alike, a GTIN missing on one side), and a merge makes them one — undoable, and with the merged
//! product's id and identifiers answering with the survivor.

mod model;
pub(crate) mod repo;
mod service;
mod similarity;

pub(crate) use model::MovedFile;
pub use model::{DuplicateCandidate, DuplicateQuery, DuplicateSide, MergeCounts, ProductMerge};
pub use service::{MAX_DUPLICATES, MergeService, UNDO_DAYS};
