//! Durations in settings (`90s`, `1h`, `48h`, `1h30m`), parsed with humantime.

use std::time::Duration;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DurationError {
    #[error("is not a duration (expected e.g. \"90s\", \"15m\", \"1h\", \"48h\"): {0}")]
    Syntax(String),
    #[error("must be at least {min}")]
    TooShort { min: String },
    #[error("must be at most {max}")]
    TooLong { max: String },
}

pub fn parse(text: &str) -> Result<Duration, DurationError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(DurationError::Syntax("empty".into()));
    }
    // A bare "0" is a common way of writing "no tolerance".
    if trimmed == "0" {
        return Ok(Duration::ZERO);
    }
    humantime::parse_duration(trimmed).map_err(|e| DurationError::Syntax(e.to_string()))
}

pub fn parse_bounded(text: &str, min_secs: u64, max_secs: u64) -> Result<Duration, DurationError> {
    let d = parse(text)?;
    if d < Duration::from_secs(min_secs) {
        return Err(DurationError::TooShort {
            min: format(Duration::from_secs(min_secs)),
        });
    }
    if d > Duration::from_secs(max_secs) {
        return Err(DurationError::TooLong {
            max: format(Duration::from_secs(max_secs)),
        });
    }
    Ok(d)
}

/// Formats a duration the way users write them (`90s`, `1h`, `10d`).
pub fn format(d: Duration) -> String {
    humantime::format_duration(d).to_string().replace(' ', "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_users_write() {
        assert_eq!(parse("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse("48h").unwrap(), Duration::from_secs(48 * 3600));
        assert_eq!(parse("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse("0").unwrap(), Duration::ZERO);
    }

    #[test]
    fn refuses_garbage_and_out_of_range() {
        assert!(matches!(parse("ninety"), Err(DurationError::Syntax(_))));
        assert!(matches!(parse("90"), Err(DurationError::Syntax(_))));
        assert!(matches!(parse(""), Err(DurationError::Syntax(_))));
        assert_eq!(
            parse_bounded("2d", 1, 86400),
            Err(DurationError::TooLong { max: "1day".into() })
        );
        assert!(matches!(
            parse_bounded("0s", 1, 10),
            Err(DurationError::TooShort { .. })
        ));
    }
}
