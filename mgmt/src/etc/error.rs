//! Boot-configuration diagnostics, rendered as pfctl renders its own:
//! `FILE:LINE: message`, one per line, every error of the run.

use std::fmt;
use std::path::{Path, PathBuf};

/// One thing wrong with the etc directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EtcError {
    pub file: PathBuf,
    /// 1-based; `None` for a problem with the file as a whole (missing,
    /// unreadable, or a whole-file rule such as "a carp interface needs a
    /// vhid"), rendered as `FILE: message`.
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for EtcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{}: {}", self.file.display(), l, self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// Every error found; `load_etc` returns this instead of a configuration
/// whenever it holds at least one, so pfd never starts half-configured.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EtcErrors {
    pub errors: Vec<EtcError>,
}

impl EtcErrors {
    pub fn push(&mut self, file: &Path, line: Option<usize>, message: impl Into<String>) {
        self.errors.push(EtcError {
            file: file.to_path_buf(),
            line,
            message: message.into(),
        });
    }

    pub fn at(&mut self, file: &Path, line: usize, message: impl Into<String>) {
        self.push(file, Some(line), message);
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn len(&self) -> usize {
        self.errors.len()
    }
}

/// One error per line, each ending in a newline, in the order found.
impl fmt::Display for EtcErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.errors {
            writeln!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for EtcErrors {}
