//! How much memory image decoding may take at once, across every upload, download and thumbnail job of the
//! process: a small file can unpack into hundreds of megabytes (a 190 KB PNG of 7000 × 7000 pixels is ~390 MB
//! decoded), so each decode first reserves what its header says it will need. An image needing more than the whole
//! budget is refused (413); an upload that finds the budget taken waits a little, then is answered 503 with a time
//! to retry; a thumbnail job waits its turn.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::MediaError;
use super::picture::Header;

/// How long an upload waits for room in the budget before it is answered 503.
pub(crate) const UPLOAD_WAIT: Duration = Duration::from_secs(5);

/// The memory image decodes may take at once, in MiB (`media.decode_memory_mib`).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use productsmanager_core::media::DecodeBudget;
///
/// let budget = DecodeBudget::new(512);
/// let held = budget.reserve(400, None).await.unwrap();
/// assert_eq!(budget.available_mib(), 112);
/// drop(held);
/// assert_eq!(budget.available_mib(), 512);
/// # })
/// ```
#[derive(Debug, Clone)]
pub struct DecodeBudget {
    room: Arc<Semaphore>,
    total_mib: u32,
}

/// Memory reserved for one decode, given back when dropped.
#[derive(Debug)]
pub struct DecodeReservation {
    _permit: OwnedSemaphorePermit,
}

impl DecodeBudget {
    /// A budget of `total_mib` MiB (at least 1).
    pub fn new(total_mib: u32) -> Self {
        let total_mib = total_mib.max(1);
        DecodeBudget { room: Arc::new(Semaphore::new(total_mib as usize)), total_mib }
    }

    /// The whole budget, in MiB.
    pub fn total_mib(&self) -> u32 {
        self.total_mib
    }

    /// What is not reserved now, in MiB.
    pub fn available_mib(&self) -> u32 {
        u32::try_from(self.room.available_permits()).unwrap_or(u32::MAX)
    }

    /// Reserves `mib`, waiting for room at most `wait` (`None`: as long as it takes). Over the whole budget:
    /// [`MediaError::TooLarge`]; no room in time: [`MediaError::Busy`].
    pub async fn reserve(&self, mib: u32, wait: Option<Duration>) -> Result<DecodeReservation, MediaError> {
        if mib > self.total_mib {
            return Err(MediaError::TooLarge {
                reason: format!(
                    "decoding this image takes about {mib} MiB, over the {} MiB images may take at once \
                     (media.decode_memory_mib)",
                    self.total_mib
                ),
            });
        }
        let acquire = self.room.clone().acquire_many_owned(mib);
        let permit = match wait {
            None => acquire.await,
            Some(wait) => tokio::time::timeout(wait, acquire).await.map_err(|_| MediaError::Busy {
                reason: format!(
                    "other images are being decoded ({} of {} MiB taken); try again shortly",
                    self.total_mib - self.available_mib(),
                    self.total_mib
                ),
                retry_after_secs: UPLOAD_WAIT.as_secs().max(1),
            })?,
        };
        // The semaphore is never closed.
        let permit = permit.map_err(|e| MediaError::Processing { reason: e.to_string() })?;
        Ok(DecodeReservation { _permit: permit })
    }
}

/// What decoding the image of `header` takes, in MiB: the decoded pixels plus an 8-bit RGBA working copy (turning
/// it upright, resizing), rounded up.
pub(crate) fn decode_cost_mib(header: &Header) -> u32 {
    let pixels = u64::from(header.width) * u64::from(header.height);
    let bytes = pixels * (u64::from(header.bytes_per_pixel) + 4);
    u32::try_from(bytes.div_ceil(1 << 20).max(1)).unwrap_or(u32::MAX)
}
