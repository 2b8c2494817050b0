//! The one error of everything after the site file is resolved (the site file's own problems are
//! [`crate::diag::Diagnostics`], located by line and column). An [`Error`] says what failed
//! ([`Kind`]), where when there is a place to name ([`Location`]: a file on disk, a template, an
//! item of the plan), and keeps the error it comes from as its [`std::error::Error::source`].

use std::error::Error as StdError;
use std::fmt;
use std::path::{Path, PathBuf};

/// What failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A template failed to render: a bug of the program.
    Template,
    /// A value reached an emitter that resolve should have refused, or two parts of the program
    /// disagree: a bug of the program.
    Internal,
    /// The file system refused an operation (`action`: "create", "rename into place", …).
    Io { action: String },
    /// The output folder cannot be used as it is (a file in the way, a folder sitebundle did not
    /// create): the user's to settle.
    Output,
}

/// Where it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A file or folder on disk.
    File(PathBuf),
    /// A template, and the block of it when one block was rendered.
    Template { name: String, block: Option<String> },
    /// An item of the plan (a task, a registry value, a GPO item), by what it is called.
    Item(String),
}

/// An error with its kind, its place and its cause.
#[derive(Debug)]
pub struct Error {
    pub kind: Kind,
    pub at: Option<Location>,
    /// Said in words (without the place or the cause, which are printed with it).
    pub message: String,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl Error {
    fn new(kind: Kind, message: impl Into<String>) -> Error {
        Error {
            kind,
            at: None,
            message: message.into(),
            source: None,
        }
    }

    /// A bug: a value that should have been refused earlier, or parts that disagree.
    pub fn internal(message: impl Into<String>) -> Error {
        Error::new(Kind::Internal, message)
    }

    /// A template that did not render.
    pub fn template(
        name: &str,
        block: Option<&str>,
        cause: impl StdError + Send + Sync + 'static,
    ) -> Error {
        Error {
            at: Some(Location::Template {
                name: name.to_string(),
                block: block.map(str::to_string),
            }),
            source: Some(Box::new(cause)),
            ..Error::new(Kind::Template, "")
        }
    }

    /// The file system refused `action` on `path`.
    pub fn io(action: &str, path: &Path, cause: std::io::Error) -> Error {
        Error {
            at: Some(Location::File(path.to_path_buf())),
            source: Some(Box::new(cause)),
            ..Error::new(
                Kind::Io {
                    action: action.to_string(),
                },
                "",
            )
        }
    }

    /// The file system refused a step of the writer that names no one file (`sync`, `swap`).
    pub fn io_step(step: &str, cause: std::io::Error) -> Error {
        Error {
            source: Some(Box::new(cause)),
            ..Error::new(
                Kind::Io {
                    action: step.to_string(),
                },
                "",
            )
        }
    }

    /// The output folder `path` cannot be used: `message` says why and what to do.
    pub fn output(path: &Path, message: impl Into<String>) -> Error {
        Error {
            at: Some(Location::File(path.to_path_buf())),
            ..Error::new(Kind::Output, message)
        }
    }

    /// The same error, placed at an item of the plan.
    pub fn at_item(mut self, item: impl Into<String>) -> Error {
        self.at = Some(Location::Item(item.into()));
        self
    }

    /// The same error with its cause.
    pub fn caused_by(mut self, cause: impl StdError + Send + Sync + 'static) -> Error {
        self.source = Some(Box::new(cause));
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cause = self.source.as_ref().map(|s| source_text(s.as_ref()));
        match (&self.kind, &self.at) {
            (Kind::Template, Some(Location::Template { name, block })) => {
                write!(f, "internal error while rendering {name}")?;
                if let Some(b) = block {
                    write!(f, ", block {b}")?;
                }
            }
            (Kind::Io { action }, Some(Location::File(p))) => {
                write!(f, "cannot {action} {}", p.display())?
            }
            (Kind::Io { action }, _) => write!(f, "{action}")?,
            (Kind::Internal, Some(Location::Item(item))) => {
                write!(f, "internal error: {item}: {}", self.message)?
            }
            (Kind::Internal, _) => write!(f, "internal error: {}", self.message)?,
            _ => write!(f, "{}", self.message)?,
        }
        match cause {
            Some(c) => write!(f, ": {c}"),
            None => Ok(()),
        }
    }
}

/// A cause in words: minijinja's errors carry their template context in `{:#}`.
fn source_text(e: &(dyn StdError + Send + Sync)) -> String {
    format!("{e:#}")
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_ref()
            .map(|s| s.as_ref() as &(dyn StdError + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_says_what_where_and_why() {
        let io = Error::io(
            "create",
            Path::new("/x/out"),
            std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied"),
        );
        assert_eq!(io.to_string(), "cannot create /x/out: denied");
        assert!(io.source().is_some());
        assert_eq!(io.at, Some(Location::File("/x/out".into())));
        let bug = Error::internal("two artifacts claim the path a").at_item("task X");
        assert_eq!(
            bug.to_string(),
            "internal error: task X: two artifacts claim the path a"
        );
        assert_eq!(Error::internal("x").kind, Kind::Internal);
        let out = Error::output(Path::new("o"), "o exists and is not a directory");
        assert_eq!(out.to_string(), "o exists and is not a directory");
        assert_eq!(out.kind, Kind::Output);
    }
}
