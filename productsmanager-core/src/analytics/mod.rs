//! Analytics (analytics database). So far the activity log: every write through the API or the CLI — who, what,
//! when, which entity — recorded without making the caller wait.

mod activity;

pub use activity::{ActivityLog, UserActivity};
