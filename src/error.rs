//! Error types: reply-level command errors with Redis's exact texts, shard-op
//! statuses, and start-up/I/O errors.

use std::borrow::Cow;

/// A status returned by a shard op; turned into text only by `From<OpError> for CmdError`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpError {
    WrongType,
    NotInteger,
    NotFloat,
    Overflow,
    NoSuchKey,
    Syntax,
    OutOfRange,
    StringTooLong,
    IncrNanOrInf,
    SameObject,
    BusyKey,
    InvalidDb,
}

/// An error reply. The text is Redis's, including its code (`ERR`, `WRONGTYPE`...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmdError(pub Cow<'static, str>);

pub type CmdResult = Result<(), CmdError>;

impl CmdError {
    pub fn new(text: impl Into<Cow<'static, str>>) -> Self {
        CmdError(text.into())
    }

    /// `ERR <msg>`.
    pub fn err(msg: impl std::fmt::Display) -> Self {
        CmdError(Cow::Owned(format!("ERR {msg}")))
    }

    pub fn syntax() -> Self {
        OpError::Syntax.into()
    }

    pub fn wrong_args(name: &str) -> Self {
        CmdError::err(format_args!("wrong number of arguments for '{name}' command"))
    }

    pub fn invalid_expire(cmd: &str) -> Self {
        CmdError::err(format_args!("invalid expire time in '{cmd}' command"))
    }

    /// The error code: the first word of the text, as INFO errorstats counts it.
    pub fn code(&self) -> &str {
        self.0.split(' ').next().unwrap_or("ERR")
    }
}

impl From<OpError> for CmdError {
    fn from(e: OpError) -> Self {
        CmdError::new(match e {
            OpError::WrongType => "WRONGTYPE Operation against a key holding the wrong kind of value",
            OpError::NotInteger => "ERR value is not an integer or out of range",
            OpError::NotFloat => "ERR value is not a valid float",
            OpError::Overflow => "ERR increment or decrement would overflow",
            OpError::NoSuchKey => "ERR no such key",
            OpError::Syntax => "ERR syntax error",
            OpError::OutOfRange => "ERR index out of range",
            OpError::StringTooLong => "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
            OpError::IncrNanOrInf => "ERR increment would produce NaN or Infinity",
            OpError::SameObject => "ERR source and destination objects are the same",
            OpError::BusyKey => "BUSYKEY Target key name already exists.",
            OpError::InvalidDb => "ERR DB index is out of range",
        })
    }
}

fn config_location(file: &str, line: usize, msg: &str) -> String {
    if line == 0 {
        format!("{file}: {msg}")
    } else {
        format!("{file}:{line}: {msg}")
    }
}

/// Start-up failures: each prints as one line naming the cause and the fix.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{}", config_location(file, *line, msg))]
    Config { file: String, line: usize, msg: String },
    #[error("{0}")]
    Usage(String),
    #[error("cannot listen on {addr}: {source}{hint}")]
    Listen { addr: String, source: std::io::Error, hint: &'static str },
    #[error("{0}")]
    Runtime(String),
    #[error("cannot open log file {path}: {source}")]
    LogFile { path: String, source: std::io::Error },
}
