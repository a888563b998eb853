//! Loosely typed vendor values: ids that are numbers in one example and strings in the next, and the
//! three vendors' four time formats.

use chrono::{DateTime, NaiveDateTime};
use serde::{Deserialize, Deserializer, de};
use std::fmt;

/// A scalar the vendor sends as a string or as a number; kept as its text.
#[derive(Debug, Clone, PartialEq)]
pub struct Lenient(pub String);

impl<'de> Deserialize<'de> for Lenient {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Lenient;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Lenient, E> {
                Ok(Lenient(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Lenient, E> {
                Ok(Lenient(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Lenient, E> {
                Ok(Lenient(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Lenient, E> {
                Ok(Lenient(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A Unix time the vendor sends as a number (seconds or milliseconds, integer or fractional) or an
/// ISO-8601 string; normalised to milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UnixTime(pub i64);

impl<'de> Deserialize<'de> for UnixTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = UnixTime;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a Unix time or an ISO-8601 date")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<UnixTime, E> {
                Ok(UnixTime(seconds_or_millis(v as f64)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<UnixTime, E> {
                Ok(UnixTime(seconds_or_millis(v as f64)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<UnixTime, E> {
                Ok(UnixTime(seconds_or_millis(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<UnixTime, E> {
                if let Ok(n) = v.trim().parse::<f64>() {
                    return Ok(UnixTime(seconds_or_millis(n)));
                }
                parse_rfc3339(v)
                    .map(UnixTime)
                    .ok_or_else(|| E::custom(format!("`{v}` is not a Unix time or an ISO-8601 date")))
            }
        }
        d.deserialize_any(V)
    }
}

/// Below 10^11 a Unix time is in seconds (that is the year 5138 in seconds, 1973 in milliseconds).
fn seconds_or_millis(v: f64) -> i64 {
    if v.abs() < 1e11 {
        (v * 1000.0).round() as i64
    } else {
        v.round() as i64
    }
}

/// `2024-05-08T11:57:42.250Z` (HighLevel).
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.timestamp_millis())
}

/// `2023-01-31 16:22:17.327878+00:00` (Partoo); also accepts the RFC 3339 `T` form.
pub fn parse_space_offset(s: &str) -> Option<i64> {
    let s = s.trim();
    DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%:z")
        .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%#z"))
        .ok()
        .map(|t| t.timestamp_millis())
        .or_else(|| parse_rfc3339(s))
}

/// `2025-09-27 14:32:00` with no zone (myKaarma `sentOn`): read as UTC, the only honest default.
pub fn parse_naive_utc(s: &str) -> Option<i64> {
    let s = s.trim();
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f"))
        .ok()
        .map(|t| t.and_utc().timestamp_millis())
}

/// A field that may be absent (`None`: the event does not say), null or empty (`Some(None)`:
/// nobody), or a string or number id (`Some(Some(id))`). Use with `#[serde(default)]`.
pub fn present_or_null<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    let value: Option<Lenient> = Option::deserialize(d)?;
    Ok(Some(value.map(|v| v.0.trim().to_string()).filter(|v| !v.is_empty())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendor_time_formats() {
        assert_eq!(parse_rfc3339("2024-05-08T11:57:42.250Z"), Some(1_715_169_462_250));
        assert_eq!(
            parse_space_offset("2023-01-31 16:22:17.327878+00:00"),
            Some(1_675_182_137_327)
        );
        assert_eq!(parse_naive_utc("2025-09-27 14:32:00"), Some(1_758_983_520_000));
        let t: UnixTime = serde_json::from_str("1728542293678").unwrap();
        assert_eq!(t.0, 1_728_542_293_678);
        let t: UnixTime = serde_json::from_str("1728542293.5").unwrap();
        assert_eq!(t.0, 1_728_542_293_500);
    }

    #[test]
    fn ids_are_strings_or_numbers() {
        let a: Lenient = serde_json::from_str("123").unwrap();
        let b: Lenient = serde_json::from_str("\"123\"").unwrap();
        assert_eq!(a, b);
        assert!(serde_json::from_str::<Lenient>("[1]").is_err());
    }
}
