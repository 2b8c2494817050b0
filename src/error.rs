//! The error of everything after the site file is resolved.

use std::fmt;

/// Failures that are not the user's site file: a template bug, a value that slipped past
/// validation, or the file system.
#[derive(Debug)]
pub enum Error {
    Template(String),
    Internal(String),
    Io(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Template(m) => write!(f, "internal error while rendering {m}"),
            Error::Internal(m) => write!(f, "internal error: {m}"),
            Error::Io(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for Error {}
