//! One listener's live feed: its notifications and the job events it may see, each once, with what other
//! processes stored caught up from the database.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::sync::broadcast::{self, error::RecvError};
use uuid::Uuid;

use super::{Event, NotificationService};

/// How often a feed looks in the database for notifications stored by other processes (workers).
const CATCH_UP_EVERY: Duration = Duration::from_secs(3);

/// Notification ids a feed remembers having given, so one arriving both live and from the database goes once.
const REMEMBERED: usize = 256;

/// The events one user may see, in the order they come. Made by [`NotificationService::live`].
///
/// What it gives: every notification of the user, whether stored by this process (at once) or by another one (within
/// a few seconds, read from the database), once each; the state and progress of jobs run by this process's
/// workers — every job for a listener allowed `jobs:read`, otherwise only the jobs the user asked for.
#[derive(Debug)]
pub struct LiveFeed {
    service: NotificationService,
    live: broadcast::Receiver<Event>,
    user: Uuid,
    all_jobs: bool,
    /// The newest notification id looked at in the database; ids are time-ordered (UUID v7).
    checked: Uuid,
    catch_up: tokio::time::Interval,
    pending: VecDeque<Event>,
    given: VecDeque<Uuid>,
}

impl NotificationService {
    /// The live feed of `user` from now on; `all_jobs` for a listener allowed to see every job (`jobs:read`).
    ///
    /// ```no_run
    /// # async fn demo(sdk: &productsmanager_core::Sdk, caller: &productsmanager_core::auth::Principal) {
    /// let mut feed = sdk.notifications().live(caller.user_id, caller.can("jobs:read"));
    /// while let Some(event) = feed.next().await {
    ///     println!("{}", serde_json::to_string(&event).unwrap_or_default());
    /// }
    /// # }
    /// ```
    pub fn live(&self, user: Uuid, all_jobs: bool) -> LiveFeed {
        LiveFeed {
            live: self.events.subscribe(),
            service: self.clone(),
            user,
            all_jobs,
            checked: Uuid::now_v7(),
            catch_up: tokio::time::interval(CATCH_UP_EVERY),
            pending: VecDeque::new(),
            given: VecDeque::with_capacity(REMEMBERED),
        }
    }
}

impl LiveFeed {
    /// The next event; `None` once the process's event hub is gone (the SDK closed).
    ///
    /// Cancel-safe: dropped mid-wait (in a `select!`), it loses nothing.
    pub async fn next(&mut self) -> Option<Event> {
        loop {
            while let Some(event) = self.pending.pop_front() {
                if self.first_time(&event) {
                    return Some(event);
                }
            }
            tokio::select! {
                event = self.live.recv() => match event {
                    Ok(event) if self.concerns(&event) => self.pending.push_back(event),
                    Ok(_) => {}
                    // Fell behind: the database has the notifications; job events are superseded by the next ones.
                    Err(RecvError::Lagged(_)) => self.catch_up.reset_immediately(),
                    Err(RecvError::Closed) => return None,
                },
                _ = self.catch_up.tick() => match self.service.since(self.user, self.checked).await {
                    Ok(missed) => {
                        if let Some(last) = missed.last() {
                            self.checked = last.id;
                        }
                        self.pending.extend(missed.into_iter().map(|notification| Event::Notification { notification }));
                    }
                    // The next tick tries again; the live ones still come meanwhile.
                    Err(e) => tracing::warn!(error = %e, user = %self.user, "notifications not caught up"),
                },
            }
        }
    }

    fn concerns(&self, event: &Event) -> bool {
        match event {
            Event::Notification { notification } => notification.user_id == self.user,
            Event::Job { job } => self.all_jobs || job.requested_by == Some(self.user),
        }
    }

    /// Whether the event was not given before (a notification can come both live and from the database).
    fn first_time(&mut self, event: &Event) -> bool {
        let Event::Notification { notification } = event else { return true };
        if self.given.contains(&notification.id) {
            return false;
        }
        if self.given.len() == REMEMBERED {
            self.given.pop_front();
        }
        self.given.push_back(notification.id);
        true
    }
}
