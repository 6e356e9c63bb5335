//! In-process fan-out of live events.

use serde::Serialize;
use tokio::sync::broadcast;
use uuid::Uuid;

use super::Notification;
use crate::jobs::{Job, JobState};

/// Events a listener falls behind by before it loses the oldest (it then catches up on notifications from the
/// database; job events are only ever the latest state, so a lost one is superseded by the next).
const CAPACITY: usize = 1024;

/// Something that happened, as pushed to live listeners.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A notification stored for a user.
    Notification { notification: Notification },
    /// A job changed state or reported progress.
    Job { job: JobEvent },
}

/// A job's state and progress at one moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobEvent {
    pub id: Uuid,
    pub queue: String,
    pub kind: String,
    pub state: JobState,
    /// What the handler last reported (rows done…).
    pub progress: Option<serde_json::Value>,
    pub last_error: Option<String>,
    /// Who asked for the job, if a user did.
    pub requested_by: Option<Uuid>,
}

impl From<&Job> for JobEvent {
    fn from(job: &Job) -> Self {
        JobEvent {
            id: job.id,
            queue: job.queue.clone(),
            kind: job.kind.clone(),
            state: job.state,
            progress: job.progress.clone(),
            last_error: job.last_error.clone(),
            requested_by: job.requested_by,
        }
    }
}

/// Publishes events to every live listener of this process. Cheap to clone; publishing with no listener is a
/// no-op.
#[derive(Debug, Clone)]
pub struct EventHub {
    sender: broadcast::Sender<Event>,
}

impl Default for EventHub {
    fn default() -> Self {
        EventHub { sender: broadcast::channel(CAPACITY).0 }
    }
}

impl EventHub {
    pub fn publish(&self, event: Event) {
        // An error only means nobody listens.
        let _ = self.sender.send(event);
    }

    /// Every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }
}
