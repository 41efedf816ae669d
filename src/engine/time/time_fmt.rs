//! Times as users write and read them: zones (`--tz +08:00`, `--tz Asia/Shanghai`) and printed
//! times.

use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

const PRINTED: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
const PRINTED_MS: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:3]");

/// A zone as a user names it: a fixed offset (`+08:00`, `UTC`) or an IANA name
/// (`Asia/Shanghai`, `Europe/Paris`). Names are looked up in the tz database compiled into the
/// binary (jiff's bundled copy, never the system's /usr/share/zoneinfo), so a build gives the same
/// answers on every machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Zone {
    /// Leaked: a run parses a handful of zones from its command line, and a `Copy` zone can be
    /// moved into every dataflow closure without cloning an `Arc` per record.
    tz: &'static jiff::tz::TimeZone,
    /// The offset, for a fixed zone: the arithmetic (and so the output) of fixed offsets stays
    /// what it was before zones had names.
    fixed: Option<UtcOffset>,
}

static UTC_ZONE: jiff::tz::TimeZone = jiff::tz::TimeZone::UTC;

impl Zone {
    pub const UTC: Zone = Zone {
        tz: &UTC_ZONE,
        fixed: Some(UtcOffset::UTC),
    };

    /// A fixed offset as [`parse_zone`] reads it, else an IANA name.
    pub fn parse(s: &str) -> Result<Zone, String> {
        if let Ok(offset) = parse_zone(s) {
            let tz = jiff::tz::Offset::from_seconds(offset.whole_seconds())
                .map(jiff::tz::TimeZone::fixed)
                .map_err(|e| format!("'{s}': {e}"))?;
            return Ok(Zone {
                tz: Box::leak(Box::new(tz)),
                fixed: Some(offset),
            });
        }
        match jiff::tz::db().get(s.trim()) {
            Ok(tz) => Ok(Zone {
                tz: Box::leak(Box::new(tz)),
                fixed: None,
            }),
            Err(_) => Err(format!(
                "'{s}' is not a time zone (examples: UTC, +08:00, -0500, Asia/Shanghai)"
            )),
        }
    }

    /// The zone's offset from UTC at the instant `ms` (epoch milliseconds).
    pub fn offset_at(&self, ms: u64) -> UtcOffset {
        if let Some(offset) = self.fixed {
            return offset;
        }
        let seconds = jiff::Timestamp::from_millisecond(ms.min(i64::MAX as u64) as i64)
            .map(|t| self.tz.to_offset(t).seconds())
            .unwrap_or(0);
        UtcOffset::from_whole_seconds(seconds).unwrap_or(UtcOffset::UTC)
    }

    /// The first instant (epoch milliseconds) of local day `day` (days since the local
    /// 1970-01-01): its 00:00, or the end of the gap when the clocks jump over midnight.
    pub fn start_of_day(&self, day: i64) -> i64 {
        let local_midnight = day.saturating_mul(86_400_000);
        let offset_ms =
            |ms: i64| i64::from(self.offset_at(ms.max(0) as u64).whole_seconds()) * 1000;
        if self.fixed.is_some() {
            return local_midnight - offset_ms(0);
        }
        let date = i32::try_from(day + UNIX_EPOCH_JULIAN_DAY)
            .ok()
            .and_then(|julian| time::Date::from_julian_day(julian).ok());
        let start = date.and_then(|date| {
            let midnight = jiff::civil::date(
                date.year() as i16,
                u8::from(date.month()) as i8,
                date.day() as i8,
            )
            .at(0, 0, 0, 0);
            self.tz.to_timestamp(midnight).ok()
        });
        match start {
            Some(t) => t.as_millisecond(),
            // Beyond the calendar's years (after 9999): the offset of the instant near it.
            None => local_midnight - offset_ms(local_midnight),
        }
    }

    /// Every offset the zone has from 1970 to 2200 (a fixed zone: its one offset), for checks
    /// such as "days are unions of windows".
    pub fn offsets(&self) -> Vec<UtcOffset> {
        if let Some(offset) = self.fixed {
            return vec![offset];
        }
        let until = jiff::Timestamp::from_second(7_258_118_400).expect("2200 is a timestamp");
        let mut seconds = vec![self.tz.to_offset(jiff::Timestamp::UNIX_EPOCH).seconds()];
        seconds.extend(
            self.tz
                .following(jiff::Timestamp::UNIX_EPOCH)
                .take_while(|t| t.timestamp() < until)
                .map(|t| t.offset().seconds()),
        );
        seconds.sort_unstable();
        seconds.dedup();
        seconds
            .into_iter()
            .filter_map(|s| UtcOffset::from_whole_seconds(s).ok())
            .collect()
    }
}

/// The Julian day number of 1970-01-01.
const UNIX_EPOCH_JULIAN_DAY: i64 = 2_440_588;

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
    fn zones_by_name_follow_their_rules() {
        let shanghai = Zone::parse("Asia/Shanghai").unwrap();
        assert_eq!(shanghai.offset_at(1_511_661_600_000).whole_seconds(), 28800);
        let paris = Zone::parse("Europe/Paris").unwrap();
        // 2024-01-15 is winter (+01:00), 2024-07-15 summer (+02:00).
        assert_eq!(paris.offset_at(1_705_320_000_000).whole_seconds(), 3600);
        assert_eq!(paris.offset_at(1_721_044_800_000).whole_seconds(), 7200);
        assert_eq!(
            paris
                .offsets()
                .iter()
                .map(|o| o.whole_seconds())
                .collect::<Vec<_>>(),
            [3600, 7200]
        );
        // 2024-03-31, the day Paris moves to summer time: 00:00 is 23:00 UTC the day before.
        let day = 19_813; // 2024-03-31
        assert_eq!(paris.start_of_day(day), 1_711_839_600_000);
        assert_eq!(
            Zone::parse("+08:00").unwrap().start_of_day(day),
            1_711_814_400_000
        );
        assert!(Zone::parse("Asia/Shangai").is_err());
        assert_eq!(Zone::parse("UTC").unwrap().fixed, Some(UtcOffset::UTC));
    }

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
