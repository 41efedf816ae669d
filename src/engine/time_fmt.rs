//! Times as users write and read them: zones (`--tz +08:00`) and printed times.

use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

const PRINTED: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
const PRINTED_MS: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:3]");

/// Parses a fixed zone: `UTC`, `Z`, `+08:00`, `+0800`, `-05`, `UTC+8`.
pub fn parse_zone(s: &str) -> Result<UtcOffset, String> {
    let bad = || format!("'{s}' is not a time zone offset (examples: UTC, +08:00, -0500)");
    let t = s.trim();
    let t = t
        .strip_prefix("UTC")
        .or_else(|| t.strip_prefix("GMT"))
        .unwrap_or(t);
    if t.is_empty() || t == "Z" {
        return Ok(UtcOffset::UTC);
    }
    let (sign, rest) = match t.as_bytes()[0] {
        b'+' => (1i32, &t[1..]),
        b'-' => (-1i32, &t[1..]),
        _ => return Err(bad()),
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.is_empty() || digits.len() > 4 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let (h, m) = match digits.len() {
        1 | 2 => (digits.parse::<i32>().map_err(|_| bad())?, 0),
        3 => (
            digits[..1].parse().map_err(|_| bad())?,
            digits[1..].parse().map_err(|_| bad())?,
        ),
        _ => (
            digits[..2].parse().map_err(|_| bad())?,
            digits[2..].parse().map_err(|_| bad())?,
        ),
    };
    if h > 23 || m > 59 {
        return Err(bad());
    }
    UtcOffset::from_whole_seconds(sign * (h * 3600 + m * 60)).map_err(|_| bad())
}

/// Formats epoch milliseconds in `zone`, with milliseconds only when they are not zero.
pub fn format_ms(ms: u64, zone: UtcOffset) -> String {
    let Ok(t) = OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000) else {
        return format!("{ms} ms");
    };
    let t = t.to_offset(zone);
    let format = if ms.is_multiple_of(1000) {
        PRINTED
    } else {
        PRINTED_MS
    };
    t.format(format).unwrap_or_else(|_| format!("{ms} ms"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_in_the_usual_spellings() {
        for (s, secs) in [
            ("UTC", 0),
            ("+08:00", 28800),
            ("+0800", 28800),
            ("UTC+8", 28800),
            ("-05", -18000),
        ] {
            assert_eq!(parse_zone(s).unwrap().whole_seconds(), secs, "{s}");
        }
        assert!(parse_zone("Europe/Paris").is_err());
    }

    #[test]
    fn printed_in_the_chosen_zone() {
        let ms = 1_511_661_600_000;
        assert_eq!(format_ms(ms, UtcOffset::UTC), "2017-11-26 02:00:00");
        assert_eq!(
            format_ms(ms, parse_zone("+08:00").unwrap()),
            "2017-11-26 10:00:00"
        );
        assert_eq!(
            format_ms(ms + 999, UtcOffset::UTC),
            "2017-11-26 02:00:00.999"
        );
    }
}
