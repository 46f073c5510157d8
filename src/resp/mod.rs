//! RESP: the request parser and the reply writer.

pub mod parse;
pub mod write;

pub use parse::{Limits, Parsed, Parser, ProtocolError};
pub use write::{Out, Proto};
