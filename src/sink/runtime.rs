//! A small current-thread tokio runtime owned by an async-client sink. One background thread
//! drives it, so the client's connection keeps answering pings and reconnecting between runs,
//! while the relay's thread blocks on each delivery as it does for every other sink.

use std::future::Future;
use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::runtime::{Builder, Handle};
use tokio::sync::Notify;

pub struct Background {
    handle: Handle,
    stop: Arc<Notify>,
    thread: Option<JoinHandle<()>>,
}

impl Background {
    pub fn start(name: &str) -> std::io::Result<Self> {
        let runtime = Builder::new_current_thread().enable_all().build()?;
        let handle = runtime.handle().clone();
        let stop = Arc::new(Notify::new());
        let stopped = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name(format!("outboxctl-{name}"))
            .spawn(move || runtime.block_on(stopped.notified()))?;
        Ok(Background {
            handle,
            stop,
            thread: Some(thread),
        })
    }

    /// Runs a future to completion on the runtime, blocking the calling thread.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.handle.block_on(future)
    }

    /// Starts a future as a task on the runtime's own thread; the returned function waits for it.
    pub fn spawn<F>(&self, future: F) -> impl FnOnce() -> Result<F::Output, String> + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let task = self.handle.spawn(future);
        let handle = self.handle.clone();
        move || {
            handle
                .block_on(task)
                .map_err(|e| format!("the client task failed: {e}"))
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.stop.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
