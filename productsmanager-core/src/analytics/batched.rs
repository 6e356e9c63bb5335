//! [`BatchedWriter`]: a queue in front of a background task that writes what it takes in batches. The activity log
//! and the analytics events both record without making their caller wait.

use tokio::sync::{mpsc, oneshot};

/// What a [`BatchedWriter`]'s task does with a batch.
#[async_trait::async_trait]
pub(crate) trait BatchSink: Send + 'static {
    type Item: Send + 'static;

    /// How much of a batch `item` takes (1 unless one item stands for several rows).
    fn weight(_item: &Self::Item) -> usize {
        1
    }

    /// Writes a batch; a failure is the sink's to log and count (the items are dropped).
    async fn write(&mut self, batch: Vec<Self::Item>);
}

enum Command<T> {
    Record(Box<T>),
    Flush(oneshot::Sender<()>),
}

/// The sending side: [`BatchedWriter::try_record`] never waits; the task ends when the last handle is dropped.
pub(crate) struct BatchedWriter<T> {
    queue: mpsc::Sender<Command<T>>,
}

impl<T> Clone for BatchedWriter<T> {
    fn clone(&self) -> Self {
        BatchedWriter { queue: self.queue.clone() }
    }
}

impl<T> std::fmt::Debug for BatchedWriter<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchedWriter").field("queued", &(self.queue.max_capacity() - self.queue.capacity())).finish()
    }
}

impl<T: Send + 'static> BatchedWriter<T> {
    /// Starts the task: up to `queue` items wait, batches of up to `batch` (by weight) go to `sink`.
    pub(crate) fn start<S: BatchSink<Item = T>>(queue: usize, batch: usize, sink: S) -> Self {
        let (sender, commands) = mpsc::channel(queue);
        tokio::spawn(run(sink, commands, batch));
        BatchedWriter { queue: sender }
    }

    /// Queues an item; false when the queue is full (the item is not recorded).
    pub(crate) fn try_record(&self, item: T) -> bool {
        self.queue.try_send(Command::Record(Box::new(item))).is_ok()
    }

    /// Waits until every item queued before the call is written (or dropped).
    pub(crate) async fn flush(&self) {
        let (done, written) = oneshot::channel();
        if self.queue.send(Command::Flush(done)).await.is_ok() {
            let _ = written.await;
        }
    }
}

/// The task: takes what is queued (up to a batch), writes it, answers the flushes that came with it, repeats.
async fn run<S: BatchSink>(mut sink: S, mut commands: mpsc::Receiver<Command<S::Item>>, batch_limit: usize) {
    let mut flushed = Vec::new();
    while let Some(first) = commands.recv().await {
        let (mut batch, mut weight) = (Vec::new(), 0);
        let mut next = Some(first);
        while let Some(command) = next.take() {
            match command {
                Command::Record(item) => {
                    weight += S::weight(&item);
                    batch.push(*item);
                }
                Command::Flush(done) => flushed.push(done),
            }
            if weight < batch_limit {
                next = commands.try_recv().ok();
            }
        }
        if !batch.is_empty() {
            sink.write(batch).await;
        }
        for done in flushed.drain(..) {
            let _ = done.send(());
        }
    }
}
