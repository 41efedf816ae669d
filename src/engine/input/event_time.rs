//! Event time: each input's watermark, the lateness decision, and the guard against bogus times.
//!
//! All three are decided by the one worker that reads an input, in the order of its lines, so the
//! answers are facts of the file: they never depend on `-w`, `-n`, batch sizes or timing
//! (`docs/event-time.md`, "Time and watermarks").

use crate::engine::input::records::Reject;
use crate::engine::time::temporal::Horizon;
use crate::engine::time::windows::Windows;

/// The watermark of one input: `F = max_ts_seen - out_of_orderness`.
#[derive(Clone, Debug)]
pub struct EventClock {
    out_of_orderness: u64,
    max_ts: Option<u64>,
}

impl EventClock {
    pub fn new(out_of_orderness: u64) -> Self {
        EventClock {
            out_of_orderness,
            max_ts: None,
        }
    }

    /// Every accepted row moves the watermark, also rows the job then filters out (as in Flink).
    pub fn observe(&mut self, ts: u64) {
        self.max_ts = Some(self.max_ts.map_or(ts, |m| m.max(ts)));
    }

    /// The highest time seen: no line read so far carries a later one.
    pub fn max_ts(&self) -> Option<u64> {
        self.max_ts
    }

    /// The clock as it was when the highest time seen was `max_ts` (a resumed reader).
    pub fn restore(&mut self, max_ts: Option<u64>) {
        self.max_ts = max_ts;
    }

    /// `F`: no on-time event before it can arrive any more. Zero before the first row.
    pub fn frontier(&self) -> u64 {
        self.max_ts
            .map_or(0, |m| m.saturating_sub(self.out_of_orderness))
    }
}

/// What a job does with a record behind its input's watermark.
#[derive(Clone, Copy, Debug)]
pub enum Lateness {
    /// Pattern jobs: every record behind the watermark goes to the late side output.
    Strict,
    /// Windowed jobs: a late record joins those of its windows still alive, at the watermark.
    Windowed(Windows),
}

/// Where one accepted record goes, and at which logical time it enters the dataflow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrival {
    /// At or after the watermark: enters at its own time.
    OnTime,
    /// Behind the watermark, but some of its windows are alive: enters at the watermark `F`.
    Correction { at: u64 },
    /// Behind the watermark, nothing left to change: to the late side output.
    Late { behind: u64 },
}

impl Lateness {
    pub fn classify(&self, ts: u64, frontier: u64) -> Arrival {
        if ts >= frontier {
            return Arrival::OnTime;
        }
        match self {
            Lateness::Windowed(w) if w.alive(ts, frontier) => Arrival::Correction { at: frontier },
            _ => Arrival::Late {
                behind: frontier - ts,
            },
        }
    }
}

/// The lateness rule of a horizon: an event behind the watermark `F` still counts while
/// `F < ts + length` (it enters at `F` and leaves at `ts + length`); after that it is late.
/// A sliding window of the horizon's length with a 1 ms slide has exactly this rule.
impl From<Horizon> for Lateness {
    fn from(horizon: Horizon) -> Self {
        Lateness::Windowed(Windows::sliding(horizon.length, 1, 0))
    }
}

/// Rejects rows whose time is implausibly far from the rest of their input.
///
/// The real Taobao data has a few rows dated 1970 and 2037. One row from 2037 must not push the
/// watermark twenty years ahead and make every row after it late. The policy: the input's
/// *anchor* starts at the median time of its first valid rows (so a bogus first row cannot
/// become the anchor; see [`TimeGuard::anchor_at_median`]) and then follows the maximum accepted
/// time; a row more than `max_jump` away from the anchor, in either direction, is rejected as a
/// bogus timestamp and reported with its line number. `max_jump = None` turns the guard off.
///
/// Which rows anchor the guard is a fact of the input, never of how it was read: the reader holds
/// its first lines back, undecided, until it has the first `ANCHOR_ROWS` valid rows of the input
/// or the input ended (`source.rs`), whatever the block size, `--replay-rate` or pipe timing.
#[derive(Clone, Debug)]
pub struct TimeGuard {
    max_jump: Option<u64>,
    anchor: Option<u64>,
    /// Whether the first rows were looked at ([`TimeGuard::anchor_at_median`]); the anchor can
    /// still be `None` then, when they held no valid row: the first row checked becomes it.
    anchored: bool,
}

impl TimeGuard {
    pub fn new(max_jump: Option<u64>) -> Self {
        TimeGuard {
            max_jump,
            anchor: None,
            anchored: false,
        }
    }

    /// Whether the guard still waits for the first rows of its input to anchor itself: no row
    /// may be decided before. Never with the guard off.
    pub fn needs_anchor(&self) -> bool {
        self.max_jump.is_some() && !self.anchored
    }

    /// Anchors the guard at the median of `times` (the times of the first valid rows of the
    /// input, in line order; of an even count, the later of the two middle ones). With no times
    /// the first row checked becomes the anchor.
    pub fn anchor_at_median(&mut self, mut times: Vec<u64>) {
        self.anchored = true;
        if times.is_empty() {
            return;
        }
        let mid = times.len() / 2;
        let (_, median, _) = times.select_nth_unstable(mid);
        self.anchor = Some(*median);
    }

    /// The anchor, once the first rows have set it.
    pub fn anchor(&self) -> Option<u64> {
        self.anchor
    }

    /// The guard as it was, anchored at `anchor`, after its first rows (a resumed reader).
    pub fn restore(&mut self, anchor: Option<u64>) {
        self.anchored = true;
        self.anchor = anchor;
    }

    pub fn check(&mut self, ts: u64) -> Result<(), Reject> {
        let Some(max_jump) = self.max_jump else {
            return Ok(());
        };
        let anchor = *self.anchor.get_or_insert(ts);
        let human = |ms: u64| humantime::format_duration(std::time::Duration::from_secs(ms / 1000));
        if ts > anchor.saturating_add(max_jump) {
            let detail = format!(
                "{} after the input's latest time (--max-time-jump)",
                human(ts - anchor)
            );
            return Err(Reject::BogusTime { detail });
        }
        if ts.saturating_add(max_jump) < anchor {
            let detail = format!(
                "{} before the input's latest time (--max-time-jump)",
                human(anchor - ts)
            );
            return Err(Reject::BogusTime { detail });
        }
        self.anchor = Some(anchor.max(ts));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watermark_trails_the_maximum() {
        let mut clock = EventClock::new(3_000);
        assert_eq!(clock.frontier(), 0);
        clock.observe(10_000);
        clock.observe(8_000);
        assert_eq!(clock.frontier(), 7_000);
    }

    #[test]
    fn late_records_join_alive_windows_only() {
        // 10 s windows sliding by 5 s, 2 s allowed lateness: the last window of ts 1_000 is [0, 10 s).
        let late = Lateness::Windowed(Windows::sliding(10_000, 5_000, 2_000));
        assert_eq!(late.classify(12_000, 12_000), Arrival::OnTime);
        assert_eq!(
            late.classify(1_000, 11_999),
            Arrival::Correction { at: 11_999 }
        );
        assert_eq!(
            late.classify(1_000, 12_000),
            Arrival::Late { behind: 11_000 }
        );
        assert_eq!(
            Lateness::Strict.classify(1_000, 1_001),
            Arrival::Late { behind: 1 }
        );
    }

    #[test]
    fn a_bogus_first_row_does_not_become_the_anchor() {
        let day = 86_400_000;
        let mut guard = TimeGuard::new(Some(day));
        let year_2037 = 2_145_916_800_000;
        let nov_2017 = 1_511_658_000_000;
        guard.anchor_at_median(vec![year_2037, nov_2017, nov_2017 + 1_000]);
        assert!(guard.check(year_2037).is_err());
        assert!(guard.check(nov_2017).is_ok());
        assert!(guard.check(1_000).is_err(), "1970 is rejected too");
        assert!(guard.check(nov_2017 + day / 2).is_ok());
    }

    #[test]
    fn a_late_event_counts_while_its_horizon_lasts() {
        let h = Lateness::from(Horizon::new(10_000).unwrap());
        assert_eq!(
            h.classify(5_000, 14_999),
            Arrival::Correction { at: 14_999 }
        );
        assert!(matches!(h.classify(5_000, 15_000), Arrival::Late { .. }));
    }
}
