//! Days in a zone, for the jobs that count per day (`--day-tz`): the tutorial's data is China
//! time, so its days start at 00:00 UTC+8, not at the epoch's midnight. A zone with daylight
//! saving time (`Europe/Paris`) has days of 23 and 25 hours: a day is from one local midnight to
//! the next, never a fixed 24 h.

use crate::engine::time::time_fmt::Zone;

/// One day of 24 hours in milliseconds (the length of most days; not of every day in every zone).
pub const DAY_MS: u64 = 86_400_000;

/// Days that start at 00:00 in a zone: day `d` is `[start(d), start(d + 1))` in epoch
/// milliseconds, numbered from the zone's 1970-01-01 (the local date's days since then).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Days {
    zone: Zone,
}

impl Days {
    /// The days of the zone a user gave with `--day-tz` (`+08:00`, `UTC`, `Asia/Shanghai`).
    pub fn parse(zone: &str) -> Result<Self, String> {
        let zone = Zone::parse(zone).map_err(|e| format!("--day-tz: {e}"))?;
        Ok(Days { zone })
    }

    /// The zone itself, for printing times in it.
    pub fn zone(&self) -> Zone {
        self.zone
    }

    /// The day that contains `ts`.
    pub fn of(&self, ts: u64) -> i64 {
        let offset_ms = i64::from(self.zone.offset_at(ts).whole_seconds()) * 1000;
        (ts as i64 + offset_ms).div_euclid(DAY_MS as i64)
    }

    /// The first millisecond of day `day` (0 for days that start before the epoch).
    pub fn start(&self, day: i64) -> u64 {
        self.zone.start_of_day(day).max(0) as u64
    }

    /// The end (exclusive) of the day that contains `ts`.
    pub fn end(&self, ts: u64) -> u64 {
        self.start(self.of(ts) + 1)
    }

    /// Whether every day starts on a multiple of `window` milliseconds from the epoch (for the
    /// jobs whose days are unions of windows): every offset the zone has is a multiple of it.
    pub fn aligned_to(&self, window: u64) -> bool {
        self.zone
            .offsets()
            .iter()
            .all(|o| (i64::from(o.whole_seconds()) * 1000).rem_euclid(window as i64) == 0)
    }

    /// `2017-11-26`: the date of day `day` in its zone.
    pub fn date(&self, day: i64) -> String {
        let date = date_of(day);
        format!(
            "{:04}-{:02}-{:02}",
            date.year(),
            u8::from(date.month()),
            date.day()
        )
    }
}

/// The local date `day` days after 1970-01-01.
fn date_of(day: i64) -> time::Date {
    time::OffsetDateTime::from_unix_timestamp(day * 86_400)
        .map(|t| t.date())
        .unwrap_or(time::Date::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_in_china_starts_at_16_utc() {
        for zone in ["+08:00", "Asia/Shanghai"] {
            let days = Days::parse(zone).unwrap();
            // 2017-11-25 16:00:00 UTC is 2017-11-26 00:00 in UTC+8.
            let midnight = 1_511_625_600_000;
            assert_eq!(days.start(days.of(midnight)), midnight);
            assert_eq!(days.of(midnight - 1) + 1, days.of(midnight));
            assert_eq!(days.end(midnight - 1), midnight);
            assert_eq!(days.end(midnight), midnight + DAY_MS);
            assert_eq!(days.date(days.of(midnight)), "2017-11-26");
        }
    }

    #[test]
    fn a_day_of_daylight_saving_time_is_not_24_hours() {
        let days = Days::parse("Europe/Paris").unwrap();
        // 2024-03-31 00:00 in Paris (+01:00) is 2024-03-30 23:00 UTC; the day has 23 hours.
        let start = 1_711_839_600_000;
        let day = days.of(start);
        assert_eq!(days.date(day), "2024-03-31");
        assert_eq!(days.start(day), start);
        assert_eq!(days.end(start), start + 23 * 3_600_000);
        assert_eq!(days.of(start + 23 * 3_600_000 - 1), day);
        // 2024-10-27 has 25 hours.
        let autumn = 1_729_980_000_000; // 2024-10-27 00:00 +02:00
        assert_eq!(days.date(days.of(autumn)), "2024-10-27");
        assert_eq!(days.end(autumn), autumn + 25 * 3_600_000);
        assert!(days.aligned_to(3_600_000));
        assert!(!days.aligned_to(2 * 3_600_000));
        assert!(!Days::parse("Asia/Kolkata").unwrap().aligned_to(3_600_000));
    }
}
