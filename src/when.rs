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

impl Clock {
    /// When a snooze typed as `1h`, `30m`, `2d`, `tomorrow`, `tomorrow 9am`, `9am`, `17:30` or
    /// `monday 8:30` ends. A bare day means 9 in the morning; a bare time already past means
    /// tomorrow's.
    pub fn until(&self, now: &Timestamp, typed: &str) -> Result<Timestamp, String> {
        let typed = typed.trim().to_lowercase();
        let explain =
            || format!("cannot read `{typed}` as a time: try 1h, 30m, 2d, tomorrow, tomorrow 9am, 17:30 or monday 8am");
        if let Ok(d) = humantime::parse_duration(&typed) {
            return Ok(*now + chrono::Duration::from_std(d).map_err(|_| explain())?);
        }
        let local = self.local_time(now);
        let mut words = typed.split_whitespace();
        let first = words.next().ok_or_else(explain)?;
        let (day_offset, time_word) = match first {
            "today" => (Some(0), words.next()),
            "tomorrow" => (Some(1), words.next()),
            day if weekday(day).is_some() => {
                let target = weekday(day).expect("checked");
                let ahead =
                    (7 + target.num_days_from_monday() as i64 - local.weekday().num_days_from_monday() as i64) % 7;
                (Some(if ahead == 0 { 7 } else { ahead }), words.next())
            }
            _ => (None, Some(first)),
        };
        if words.next().is_some() {
            return Err(explain());
        }
        let (hour, minute) = match time_word {
            Some(w) => clock_time(w).ok_or_else(explain)?,
            None => (9, 0),
        };
        let at = |days: i64| {
            (local.date_naive() + chrono::Duration::days(days))
                .and_hms_opt(hour, minute, 0)
                .and_then(|t| t.and_local_timezone(*local.offset()).single())
                .map(|t| t.to_utc())
        };
        let when = match day_offset {
            Some(days) => at(days),
            None => at(0).filter(|t| t > now).or_else(|| at(1)),
        }
        .ok_or_else(explain)?;
        if when <= *now {
            return Err(format!("`{typed}` has already passed"));
        }
        Ok(when)
    }
}

fn weekday(word: &str) -> Option<chrono::Weekday> {
    let days = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    let i = days.iter().position(|d| word.len() >= 3 && d.starts_with(word))?;
    chrono::Weekday::try_from(i as u8).ok()
}

/// `9am`, `9:30pm`, `17:30`, `17` → (hour, minute).
fn clock_time(word: &str) -> Option<(u32, u32)> {
    let (digits, pm) = match (word.strip_suffix("am"), word.strip_suffix("pm")) {
        (Some(d), _) => (d, Some(false)),
        (_, Some(d)) => (d, Some(true)),
        _ => (word, None),
    };
    let (h, m) = match digits.split_once(':') {
        Some((h, m)) => (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?),
        None => (digits.parse::<u32>().ok()?, 0),
    };
    let h = match pm {
        Some(_) if !(1..=12).contains(&h) => return None,
        Some(true) => h % 12 + 12,
        Some(false) => h % 12,
        None => h,
    };
    (h < 24 && m < 60).then_some((h, m))
}

#[cfg(test)]
mod tests {
    use super::Clock;

    #[test]
    fn snooze_times_as_people_type_them() {
        let utc = Clock { offset_secs: 0 };
        // A Friday.
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-27T12:00:00Z")
            .unwrap()
            .to_utc();
        let until = |s: &str| utc.until(&now, s).map(|t| t.to_rfc3339());
        assert_eq!(until("1h").unwrap(), "2026-11-27T13:00:00+00:00");
        assert_eq!(until("tomorrow").unwrap(), "2026-11-28T09:00:00+00:00");
        assert_eq!(until("tomorrow 9am").unwrap(), "2026-11-28T09:00:00+00:00");
        assert_eq!(until("Tomorrow 2:30pm").unwrap(), "2026-11-28T14:30:00+00:00");
        assert_eq!(until("17:30").unwrap(), "2026-11-27T17:30:00+00:00");
        assert_eq!(
            until("9am").unwrap(),
            "2026-11-28T09:00:00+00:00",
            "past today: tomorrow"
        );
        assert_eq!(until("monday").unwrap(), "2026-11-30T09:00:00+00:00");
        assert_eq!(
            until("fri 8am").unwrap(),
            "2026-12-04T08:00:00+00:00",
            "a week on, not today"
        );
        assert!(until("someday").unwrap_err().contains("tomorrow 9am"));
        assert!(until("13pm").is_err());
        let paris = Clock { offset_secs: 3600 };
        assert_eq!(
            paris.until(&now, "tomorrow 9am").unwrap().to_rfc3339(),
            "2026-11-28T08:00:00+00:00"
        );
    }

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
