//! The demo dealership's day, moved to now. The events were written for one fixed day; shown as
//! they are, every row would say a date long past. Every timestamp in the raw events is moved by
//! the same amount (whole minutes), so the day ends a few minutes before the demo starts and every
//! conversation keeps its order and spacing. Ids are untouched, so nothing is seen twice.

/// When the demo day's last event happened, as written in `assets/demo`.
pub const WRITTEN_END_MS: i64 = 1_795_176_000_000; // 2026-11-20T12:00:00Z
/// The day ends this long before the demo starts.
const ENDS_AGO_MS: i64 = 12 * 60_000;

/// How far to move the written day so it ends shortly before `now_ms`.
pub fn shift_for(now_ms: i64) -> i64 {
    let delta = now_ms - ENDS_AGO_MS - WRITTEN_END_MS;
    delta - delta.rem_euclid(60_000)
}

/// `bytes` with every timestamp moved by `delta_ms`: `YYYY-MM-DD HH:MM:SS` and
/// `YYYY-MM-DDTHH:MM:SS` (at any JSON depth, escaped or not, fractions and zones kept), and epoch
/// milliseconds given as a JSON number.
pub fn shifted(bytes: &[u8], delta_ms: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let boundary = i == 0 || !bytes[i - 1].is_ascii_digit();
        if boundary {
            if let Some(moved) = moved_datetime(&bytes[i..], delta_ms) {
                out.extend_from_slice(moved.as_bytes());
                i += 19;
                continue;
            }
            if let Some((moved, len)) = moved_epoch(bytes, i, delta_ms) {
                out.extend_from_slice(moved.as_bytes());
                i += len;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

fn moved_datetime(b: &[u8], delta_ms: i64) -> Option<String> {
    let s = b.get(..19)?;
    let shape = b"dddd-dd-dd?dd:dd:dd";
    let fits = s.iter().zip(shape).all(|(c, want)| match want {
        b'd' => c.is_ascii_digit(),
        b'?' => *c == b' ' || *c == b'T',
        w => c == w,
    });
    if !fits || b.get(19).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let text = std::str::from_utf8(s).ok()?;
    let sep = text.as_bytes()[10] as char;
    let t = chrono::NaiveDateTime::parse_from_str(&text.replacen('T', " ", 1), "%Y-%m-%d %H:%M:%S").ok()?;
    let moved = t.checked_add_signed(chrono::TimeDelta::milliseconds(delta_ms))?;
    Some(moved.format(&format!("%Y-%m-%d{sep}%H:%M:%S")).to_string())
}

/// A JSON number of 13 digits in the range of recent epoch milliseconds, right after a `:`.
fn moved_epoch(b: &[u8], at: usize, delta_ms: i64) -> Option<(String, usize)> {
    let len = b[at..].iter().take_while(|c| c.is_ascii_digit()).count();
    if len != 13 || b[..at].iter().rev().find(|c| **c != b' ') != Some(&b':') {
        return None;
    }
    let ms: i64 = std::str::from_utf8(&b[at..at + len]).ok()?.parse().ok()?;
    if !(1_600_000_000_000..2_000_000_000_000).contains(&ms) {
        return None;
    }
    Some(((ms + delta_ms).to_string(), len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_timestamp_moves_and_nothing_else_does() {
        let day = 86_400_000;
        let text = br#"{"timestamp":1795161900000,"payload":"{\"sentOn\":\"2026-11-20 08:05:00\"}","dateAdded":"2026-11-20T08:01:00.000Z","date":"2026-11-20 23:20:00.000000+00:00","phone":"3105550142","id":"17951619000001"}"#;
        let moved = String::from_utf8(shifted(text, 7 * day)).unwrap();
        assert_eq!(
            moved,
            r#"{"timestamp":1795766700000,"payload":"{\"sentOn\":\"2026-11-27 08:05:00\"}","dateAdded":"2026-11-27T08:01:00.000Z","date":"2026-11-27 23:20:00.000000+00:00","phone":"3105550142","id":"17951619000001"}"#
        );
    }

    #[test]
    fn the_day_ends_minutes_before_now() {
        let now = WRITTEN_END_MS + 7 * 86_400_000 + 5 * 3_600_000 + 123_456;
        let end = WRITTEN_END_MS + shift_for(now);
        assert!(now - end >= ENDS_AGO_MS && now - end < ENDS_AGO_MS + 60_000);
        assert_eq!(shift_for(now) % 60_000, 0);
    }
}
