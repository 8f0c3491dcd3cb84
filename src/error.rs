//! Typed errors of the library, and the one map from error kind to exit code.

use std::process::ExitCode;

/// Exit codes, documented in the README. Stable: scripts rely on them.
pub mod exit {
    pub const OK: u8 = 0;
    /// Something unexpected failed.
    pub const FAILURE: u8 = 1;
    /// Bad flags, values, content or configuration. Nothing was written.
    pub const USAGE: u8 = 2;
    /// The database could not be used: missing schema, locked, read-only, corrupt, unreachable.
    pub const DATABASE: u8 = 3;
    /// A message id that does not exist.
    pub const NOT_FOUND: u8 = 4;
    /// The write would break a uniqueness rule (e.g. a duplicate email).
    pub const CONFLICT: u8 = 5;
    /// A replay stopped (Ctrl-C) or ended with dead messages before every message was
    /// delivered: the same command resumes it.
    pub const INCOMPLETE: u8 = 6;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input the user can fix: a bad value, invalid JSON, a bad config file.
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The command already reported its outcome on stdout (e.g. `health` WARNING): exit with this
    /// code and print nothing more.
    #[error("exit status {0}")]
    Exit(u8),
}

impl Error {
    pub fn usage(msg: impl Into<String>) -> Self {
        Error::Usage(msg.into())
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => exit::USAGE,
            Error::NotFound(_) => exit::NOT_FOUND,
            Error::Store(e) => e.exit_code(),
            Error::Exit(code) => *code,
        }
    }
}

/// What a store backend reports. Each backend maps its driver's errors into these kinds.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be used as it is; the message says what to do.
    #[error("{0}")]
    Unavailable(String),
    /// Another writer held the lock for longer than the busy timeout.
    #[error("database is locked by another writer (waited {waited:?}); try again, or raise busy_timeout")]
    Busy { waited: std::time::Duration },
    /// A uniqueness rule was broken; nothing was written.
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Other(String),
}

impl StoreError {
    pub fn exit_code(&self) -> u8 {
        match self {
            StoreError::Unavailable(_) | StoreError::Busy { .. } => exit::DATABASE,
            StoreError::Conflict(_) => exit::CONFLICT,
            StoreError::Other(_) => exit::FAILURE,
        }
    }
}

/// Finds the most specific exit code in an error chain.
pub fn exit_code_of(err: &anyhow::Error) -> ExitCode {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<Error>() {
            return ExitCode::from(e.exit_code());
        }
        if let Some(e) = cause.downcast_ref::<StoreError>() {
            return ExitCode::from(e.exit_code());
        }
    }
    ExitCode::from(exit::FAILURE)
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Whether the error only carries an exit code for an outcome already reported.
pub fn is_reported(err: &anyhow::Error) -> bool {
    matches!(err.downcast_ref::<Error>(), Some(Error::Exit(_)))
}
