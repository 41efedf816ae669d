//! Days in a fixed zone, for the jobs that count per day (`--day-tz`): the tutorial's data is
//! China time, so its days start at 00:00 UTC+8, not at the epoch's midnight.

use crate::engine::time_fmt::parse_zone;

/// One day in milliseconds.
pub const DAY_MS: u64 = 86_400_000;

/// Days that start at 00:00 in a fixed zone: day `d` is `[start(d), start(d + 1))` in epoch
/// milliseconds, numbered from the zone's 1970-01-01.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Days {
    /// The zone's offset from UTC.
    pub offset_ms: i64,
}

impl Days {
    /// The days of the zone a user gave with `--day-tz` (`+08:00`, `UTC`, `-0500`).
    pub fn parse(zone: &str) -> Result<Self, String> {
        let zone = parse_zone(zone).map_err(|e| format!("--day-tz: {e}"))?;
        Ok(Days {
            offset_ms: i64::from(zone.whole_seconds()) * 1000,
        })
    }

    /// The zone itself, for printing times in it.
    pub fn zone(&self) -> time::UtcOffset {
        time::UtcOffset::from_whole_seconds((self.offset_ms / 1000) as i32)
            .expect("parsed from a valid zone")
    }

    /// The day that contains `ts`.
    pub fn of(&self, ts: u64) -> i64 {
        (ts as i64 + self.offset_ms).div_euclid(DAY_MS as i64)
    }

    /// The first millisecond of day `day` (0 for days that start before the epoch).
    pub fn start(&self, day: i64) -> u64 {
        (day * DAY_MS as i64 - self.offset_ms).max(0) as u64
    }

    /// The end (exclusive) of the day that contains `ts`.
    pub fn end(&self, ts: u64) -> u64 {
        self.start(self.of(ts) + 1)
    }

    /// `2017-11-26`: the date of day `day` in its zone.
    pub fn date(&self, day: i64) -> String {
        let date = time::OffsetDateTime::from_unix_timestamp(day * 86_400)
            .map(|t| t.date())
            .unwrap_or(time::Date::MIN);
        format!(
            "{:04}-{:02}-{:02}",
            date.year(),
            u8::from(date.month()),
            date.day()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_in_china_starts_at_16_utc() {
        let days = Days::parse("+08:00").unwrap();
        // 2017-11-25 16:00:00 UTC is 2017-11-26 00:00 in UTC+8.
        let midnight = 1_511_625_600_000;
        assert_eq!(days.start(days.of(midnight)), midnight);
        assert_eq!(days.of(midnight - 1) + 1, days.of(midnight));
        assert_eq!(days.end(midnight - 1), midnight);
        assert_eq!(days.end(midnight), midnight + DAY_MS);
        assert_eq!(days.date(days.of(midnight)), "2017-11-26");
    }
}
