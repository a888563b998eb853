//! Times as people read them: in the reader's time zone, and "how long ago" in a few characters.

use crate::model::Timestamp;
use chrono::{DateTime, Datelike, FixedOffset};

/// The reader's time zone, fixed when the program starts (tests use UTC).
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub offset_secs: i32,
}

impl Clock {
    pub fn local() -> Clock {
        Clock {
            offset_secs: chrono::Local::now().offset().local_minus_utc(),
        }
    }

    /// A moment on the reader's wall clock.
    pub fn local_time(&self, t: &Timestamp) -> DateTime<FixedOffset> {
        let zone = FixedOffset::east_opt(self.offset_secs).unwrap_or_else(|| FixedOffset::east_opt(0).expect("UTC"));
        t.with_timezone(&zone)
    }

    /// "now", "5m", "3h", "2d", then the date: "Mar 4" this year, "2025-03-04" before.
    pub fn ago(&self, now: &Timestamp, t: &Timestamp) -> String {
        let secs = (*now - *t).num_seconds();
        let local = self.local_time(t);
        match secs {
            s if s < 60 => "now".into(),
            s if s < 3600 => format!("{}m", s / 60),
            s if s < 86_400 => format!("{}h", s / 3600),
            s if s < 7 * 86_400 => format!("{}d", s / 86_400),
            _ if local.year() == self.local_time(now).year() => local.format("%b %-d").to_string(),
            _ => local.format("%Y-%m-%d").to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Clock;

    #[test]
    fn ago_in_a_few_characters() {
        let utc = Clock { offset_secs: 0 };
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-27T12:00:00Z")
            .unwrap()
            .to_utc();
        let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        assert_eq!(utc.ago(&now, &at("2026-11-27T11:59:30Z")), "now");
        assert_eq!(utc.ago(&now, &at("2026-11-27T11:55:00Z")), "5m");
        assert_eq!(utc.ago(&now, &at("2026-11-27T09:00:00Z")), "3h");
        assert_eq!(utc.ago(&now, &at("2026-11-25T12:00:00Z")), "2d");
        assert_eq!(utc.ago(&now, &at("2026-03-04T12:00:00Z")), "Mar 4");
        assert_eq!(utc.ago(&now, &at("2025-03-04T12:00:00Z")), "2025-03-04");
        assert_eq!(
            utc.ago(&now, &at("2026-11-28T12:00:00Z")),
            "now",
            "a clock running ahead"
        );
    }
}
