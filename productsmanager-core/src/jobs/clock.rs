//! Time as a dependency, so retry schedules and leases are tested without sleeping.

use chrono::{DateTime, SubsecRound, Utc};

/// Where the queue reads the time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now, to the microsecond (what PostgreSQL keeps).
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }
}
