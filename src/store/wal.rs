//! Checkpoints of the SQLite write-ahead log on a thread of their own.
//!
//! SQLite copies the WAL back into the database file (a checkpoint: page copies and two
//! fsyncs) inside whichever commit takes the WAL past 1000 pages. The relay and `purge` commit
//! all the time, so they would wait on the disk in the middle of their work. Instead, once the
//! WAL is that long, a second connection on a thread of its own checkpoints while they go on
//! (SQLite lets a checkpoint run beside a writer), asked for as [`Pacer`] says. The WAL only
//! starts over once a checkpoint has caught up with the last commit, so when the writer gets
//! far ahead it finishes the checkpoint itself, which keeps the WAL bounded.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use rusqlite::Connection;
use rusqlite::hooks::Wal;
use rusqlite::wal::CheckpointMode;

/// WAL pages after a commit from which a checkpoint is started: SQLite's own default, which
/// the applications' connections keep.
const START: i32 = 1000;
/// WAL pages from which the writer completes the checkpoint itself, so the next write can
/// start the WAL over; from twice as many it also waits for the background one to finish.
const CATCH_UP: i32 = 8 * START;

/// WAL pages from which an application's commit catches up too. Below it, only the relay's
/// and purge's commits do: an application's commit beside a purge would otherwise copy the
/// purge's pages and wait for the disk (hundreds of milliseconds).
const APP_CATCH_UP: i32 = 4 * CATCH_UP;

/// What is committing on a connection, as the checkpoint policy needs to know. Both off: the
/// relay's small commits.
#[derive(Default)]
pub struct Writing {
    /// An application's transaction: its commit leaves catching up with the WAL to the others.
    pub app: Arc<AtomicBool>,
    /// A bulk delete (a purge's chunk): each commit asks for a checkpoint at once.
    pub bulk: Arc<AtomicBool>,
}

/// Replaces SQLite's automatic checkpoint on `conn` with the background one. The thread is
/// only started the first time the WAL grows long, so short commands never start it. Returns
/// the switches that say what is committing on `conn`.
pub fn checkpoint_in_background(conn: &mut Connection, path: &str) -> rusqlite::Result<Writing> {
    let path = path.to_owned();
    let writing = Writing::default();
    let (in_app, bulk) = (Arc::clone(&writing.app), Arc::clone(&writing.bulk));
    let mut worker: Option<Worker> = None;
    let mut unavailable = false;
    let mut pacer = Pacer::default();
    conn.wal_hook(Some(move |wal: &mut Wal, pages: i32| {
        let ask = pacer.ask(pages, bulk.load(Ordering::Relaxed));
        if pages < START {
            return Ok(());
        }
        if worker.is_none() && !unavailable {
            worker = Worker::start(&path)
                .inspect_err(|e| tracing::debug!("checkpointing in the foreground: {e}"))
                .ok();
            unavailable = worker.is_none();
        }
        // An error returned here would fail the statement whose commit has already happened,
        // and a checkpoint that could not run now runs after a later commit: never report one.
        let Some(w) = &worker else {
            let _ = wal.checkpoint_v2(CheckpointMode::PASSIVE);
            return Ok(());
        };
        let catch_up = if in_app.load(Ordering::Relaxed) {
            APP_CATCH_UP
        } else {
            CATCH_UP
        };
        if pages >= catch_up {
            // Catch up when no background checkpoint is running, so little is left to copy;
            // wait for the one running only far past the mark, so an application's commit
            // seldom waits for the relay's checkpoint.
            let alone = if pages >= 2 * catch_up {
                Some(w.lock.lock().unwrap_or_else(|e| e.into_inner()))
            } else {
                w.lock.try_lock().ok()
            };
            if alone.is_some() {
                let _ = wal.checkpoint_v2(CheckpointMode::PASSIVE);
                return Ok(());
            }
        }
        if ask {
            w.nudge();
        }
        Ok(())
    }))?;
    Ok(writing)
}

/// When to ask the background thread for a checkpoint, once the WAL is [`START`] pages long:
/// after each commit of a bulk delete (a purge's chunk), and otherwise each time the WAL has
/// grown by [`START`] pages since the last ask. Asking after every commit kept the thread
/// copying a few of the relay's commits at a time, each copy with its two fsyncs and the same hot
/// pages written again and again: the drain at 20 a batch ran at two thirds of its speed. A
/// purge's large commits are still checkpointed one by one: paced, the WAL ran ahead of the
/// thread and an application's commit beside a purge waited up to 600 ms.
#[derive(Default)]
struct Pacer {
    /// The WAL's length when a checkpoint was last asked for.
    asked: i32,
}

impl Pacer {
    fn ask(&mut self, pages: i32, bulk: bool) -> bool {
        if pages < self.asked {
            // The WAL started over.
            self.asked = 0;
        }
        let ask = pages >= START && (bulk || pages >= self.asked + START);
        if ask {
            self.asked = pages;
        }
        ask
    }
}

struct Worker {
    nudges: Option<SyncSender<()>>,
    /// Held during each checkpoint, so a writer catching up waits for the one in progress.
    lock: Arc<Mutex<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    fn start(path: &str) -> Result<Worker, Box<dyn std::error::Error>> {
        let conn = Connection::open(path)?;
        // A checkpoint's durability follows its own connection's setting: NORMAL syncs the WAL
        // before copying it and the database file after.
        conn.execute_batch("PRAGMA synchronous = NORMAL;")?;
        let (nudges, received) = mpsc::sync_channel(1);
        let lock = Arc::new(Mutex::new(()));
        let held = Arc::clone(&lock);
        let thread = std::thread::Builder::new()
            .name("wal-checkpoint".into())
            .spawn(move || run(&conn, &received, &held))?;
        Ok(Worker {
            nudges: Some(nudges),
            lock,
            thread: Some(thread),
        })
    }

    fn nudge(&self) {
        // Full means a checkpoint is already asked for; it will see this commit's pages too.
        if let Some(n) = &self.nudges
            && let Err(TrySendError::Disconnected(())) = n.try_send(())
        {
            tracing::debug!("the checkpoint thread is gone");
        }
    }
}

fn run(conn: &Connection, nudges: &Receiver<()>, lock: &Mutex<()>) {
    while nudges.recv().is_ok() {
        let _alone = lock.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = conn.wal_checkpoint_v2(None::<&str>, CheckpointMode::PASSIVE) {
            tracing::debug!("background checkpoint: {e}");
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Closing the channel ends the loop after the checkpoint in progress, if any.
        self.nudges.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_is_asked_for_every_start_pages_not_every_commit() {
        let mut pacer = Pacer::default();
        let asked: Vec<i32> = (1..=3500).step_by(7).filter(|&p| pacer.ask(p, false)).collect();
        assert_eq!(asked, vec![1002, 2003, 3004]);
        // A bulk delete's commits ask every time, however small.
        assert!(pacer.ask(3510, true));
        assert!(pacer.ask(3511, true));
        assert!(!pacer.ask(3512, false));
        // The WAL started over: asked again once it is long again, not before.
        assert!(!pacer.ask(12, false));
        assert!(!pacer.ask(START - 1, true));
        assert!(pacer.ask(START, false));
    }

    /// The relay and purge commit without pause; the WAL must not grow past the catch-up
    /// point, and what they wrote must reach the database file.
    #[test]
    fn wal_stays_bounded_under_a_writer_that_never_pauses() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let path = path.to_str().unwrap();
        let mut conn = Connection::open(path).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
             CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB);",
        )
        .unwrap();
        checkpoint_in_background(&mut conn, path).unwrap();
        let page = 4096u64;
        let mut longest = 0;
        // About 12 pages per commit, 30000 pages in all: several times the catch-up point.
        for _ in 0..2500 {
            conn.execute(
                "WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < 16)
                 INSERT INTO t (v) SELECT zeroblob(3000) FROM s",
                [],
            )
            .unwrap();
            let wal = std::fs::metadata(format!("{path}-wal")).map_or(0, |m| m.len());
            longest = longest.max(wal);
        }
        assert!(
            longest < (2 * CATCH_UP as u64 + 100) * (page + 24),
            "the WAL reached {longest} bytes"
        );
        let db = std::fs::metadata(path).unwrap().len();
        assert!(
            db > 20_000 * page,
            "checkpoints copied only {db} bytes to the database"
        );
        let n: i64 = conn
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2500 * 16);
    }
}
