//! [`Repeating`]: a background loop doing one round of work every so often until shut down — the scheduler's ticks,
//! the folder source's looks.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Work done in rounds by a [`Repeating`] loop.
pub trait Round: Send + 'static {
    /// What a round does, for the log line when one fails.
    const WHAT: &'static str;

    /// One round; a failure is logged and the next round tries again.
    fn round(&mut self) -> impl Future<Output = crate::Result<()>> + Send;
}

/// A loop started by [`Repeating::start`].
#[derive(Debug)]
pub struct Repeating {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Repeating {
    /// Runs a round at once, then one every `every`.
    pub fn start<R: Round>(mut work: R, every: Duration) -> Self {
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            while !*stopped.borrow() {
                if let Err(e) = work.round().await {
                    tracing::warn!(error = %e, "{} failed; the next round retries", R::WHAT);
                }
                tokio::select! {
                    () = tokio::time::sleep(every) => {}
                    _ = stopped.changed() => {}
                }
            }
        });
        Repeating { stop, task }
    }

    /// Stops after the round in progress.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}
