//! Logging through `tracing`, with the level from `loglevel` and the output
//! from `logfile` (stderr when empty, as Redis logs to stdout).

use crate::config::{Config, LogLevel};
use crate::error::StartError;

pub fn init(config: &Config) -> Result<(), StartError> {
    let level = match config.loglevel {
        LogLevel::Debug => Some(tracing::Level::DEBUG),
        LogLevel::Verbose => Some(tracing::Level::DEBUG),
        LogLevel::Notice => Some(tracing::Level::INFO),
        LogLevel::Warning => Some(tracing::Level::WARN),
        LogLevel::Nothing => None,
    };
    let Some(level) = level else {
        return Ok(());
    };
    let builder = tracing_subscriber::fmt().with_max_level(level).with_target(false);
    if config.logfile.is_empty() {
        builder.with_writer(std::io::stderr).init();
    } else {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&config.logfile)
            .map_err(|source| StartError::LogFile { path: config.logfile.clone(), source })?;
        builder.with_ansi(false).with_writer(std::sync::Mutex::new(file)).init();
    }
    Ok(())
}
