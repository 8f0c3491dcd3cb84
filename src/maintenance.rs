//! Maintenance of the outbox beside the relay: purging processed messages in chunks that leave
//! room for the application's writers, and retrying or skipping failed ones on request.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::error::{Error, StoreError};
use crate::store::{Audit, RetrySelect, Store};

/// Each chunk is one transaction that the application's writers wait for: its size follows
/// how fast rows go, so it holds the write lock about this long.
const CHUNK_TIME: Duration = Duration::from_millis(20);
/// Rows in the first chunk, and the bounds of later ones.
const FIRST_CHUNK: usize = 2_000;
const CHUNK_RANGE: (usize, usize) = (200, 100_000);
/// Between chunks the lock stays free this long, so writers waiting for it get in.
const PAUSE: Duration = Duration::from_millis(2);

/// Deletes every message processed before `before`, chunk by chunk, calling `progress` with the
/// number deleted by each chunk. Returns how many were deleted. Unprocessed messages are never
/// touched; an error leaves the chunks already deleted deleted (and counted in `audit`'s row).
pub fn purge(
    store: &mut dyn Store,
    before: DateTime<Utc>,
    audit: &Audit,
    progress: &mut dyn FnMut(u64),
) -> Result<u64, StoreError> {
    let mut deleted = 0;
    let mut chunk = FIRST_CHUNK;
    loop {
        let started = Instant::now();
        let n = store.purge_chunk(before, chunk, audit)?;
        deleted += n;
        progress(n);
        if n < chunk as u64 {
            return Ok(deleted);
        }
        let scale = CHUNK_TIME.as_secs_f64() / started.elapsed().as_secs_f64().max(1e-6);
        chunk = ((chunk as f64 * scale.min(2.0)) as usize).clamp(CHUNK_RANGE.0, CHUNK_RANGE.1);
        std::thread::sleep(PAUSE);
    }
}

/// Makes the selected messages due now (with `dry_run`, only counts them). Ids that do not
/// exist are an error and nothing is retried, so a typo is not taken for "nothing to retry".
pub fn retry(
    store: &mut dyn Store,
    select: &RetrySelect,
    dry_run: bool,
    audit: &Audit,
) -> Result<u64, Error> {
    if let RetrySelect::Ids(ids) = select {
        all_exist(store, ids, "retried")?;
    }
    Ok(store.retry(select, audit.at, dry_run, audit)?)
}

/// Skips the given messages (with `dry_run`, only counts them). Ids that do not exist are an
/// error and nothing is skipped.
pub fn skip(store: &mut dyn Store, ids: &[String], dry_run: bool, audit: &Audit) -> Result<u64, Error> {
    all_exist(store, ids, "skipped")?;
    Ok(store.skip(ids, audit.at, dry_run, audit)?)
}

/// An id that does not exist is an error, so a typo is not taken for "nothing to do".
fn all_exist(store: &mut dyn Store, ids: &[String], done: &str) -> Result<(), Error> {
    let missing = store.missing_ids(ids)?;
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::NotFound(format!(
        "no message with id {}; nothing was {done}",
        missing.join(", ")
    )))
}
