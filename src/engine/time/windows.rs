//! Event-time windows over differential collections: panes, expansion, purge.
//!
//! A sliding window of size `S` and slide `L` (`S % L == 0`) is the union of `S / L` panes of
//! length `L`. Jobs aggregate per pane first (the sources consolidate each batch, so a pane's
//! on-time rows collapse into one update), and only then expand each pane update into its windows:
//! raw events are never expanded (`docs/event-time.md`, "Windows").
//!
//! Every window contribution is inserted at `max(t, end - 1)` and retracted at `max(t, end + A)`,
//! where `t` is the update's time. On-time rows therefore all land on `end - 1`, where the window
//! fires; a late row lands at its watermark `F`; and a row for an already-purged window is inserted
//! and retracted at the same `F`, so it cancels. State is only kept for alive windows.

use std::cmp::max;

use differential_dataflow::{AsCollection, ExchangeData, VecCollection};
use timely::dataflow::operators::vec::Map;

use crate::engine::time::temporal::during;

/// The shape of a job's windows, with its allowed lateness. Times are milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Windows {
    pub size: u64,
    pub slide: u64,
    pub lateness: u64,
}

/// One window `[start, end)`; its results are stamped at `end - 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Window {
    pub start: u64,
    pub end: u64,
}

impl Windows {
    /// Sliding windows; `size` must be a positive multiple of `slide` (checked by the CLI).
    pub fn sliding(size: u64, slide: u64, lateness: u64) -> Self {
        assert!(
            slide > 0 && size.is_multiple_of(slide),
            "window size must be a multiple of the slide"
        );
        Windows {
            size,
            slide,
            lateness,
        }
    }

    pub fn tumbling(size: u64, lateness: u64) -> Self {
        Self::sliding(size, size, lateness)
    }

    /// Checks a user's `--window` / `--slide` and says what is wrong in one sentence.
    pub fn validate(size: u64, slide: u64) -> Result<(), String> {
        if slide == 0 || size == 0 {
            return Err("--window and --slide must be longer than 0 ms".into());
        }
        if !size.is_multiple_of(slide) {
            return Err(format!(
                "--window ({size} ms) must be a multiple of --slide ({slide} ms): windows are built from slide-long panes"
            ));
        }
        Ok(())
    }

    /// The pane a timestamp falls in (panes are aligned to the epoch).
    pub fn pane(&self, ts: u64) -> u64 {
        ts / self.slide
    }

    /// The time at which a record enters the pane stage: every window of its pane ends at or
    /// after the pane's end, so an on-time record may wait for `pane_end - 1` without changing
    /// any result, and records of one pane then share one time and consolidate.
    pub fn pane_time(&self, ts: u64, t: u64) -> u64 {
        max(t, (self.pane(ts) + 1) * self.slide - 1)
    }

    /// The ends of the windows that contain a pane, in order.
    pub fn ends_of_pane(&self, pane: u64) -> impl Iterator<Item = u64> + use<> {
        let first = (pane + 1) * self.slide;
        let count = self.size / self.slide;
        let slide = self.slide;
        (0..count).map(move |i| first + i * slide)
    }

    /// The window that ends at `end`.
    pub fn ending_at(&self, end: u64) -> Window {
        Window {
            start: end.saturating_sub(self.size),
            end,
        }
    }

    /// Whether a record at `ts` still has a window alive at watermark `frontier`: its last window
    /// ends at `last_end`, and a window is alive while `frontier <= end - 1 + lateness`.
    pub fn alive(&self, ts: u64, frontier: u64) -> bool {
        let last_end = (self.pane(ts) + 1) * self.slide + self.size - self.slide;
        frontier < last_end + self.lateness
    }

    /// From the first time at which a change to the window ending at `end` is a purge.
    pub fn purge_time(&self, end: u64) -> u64 {
        end + self.lateness
    }
}

/// Expands pane updates `(key, pane)` into window updates `(window_end, key)`, each inserted at
/// `max(t, end - 1)` and retracted at `max(t, end + lateness)`.
///
/// The times of the output may be later than the capabilities of their messages: differential's
/// operators hold such updates until the frontier reaches them (as Materialize's temporal filters).
pub fn expand_panes<'s, K: ExchangeData>(
    panes: VecCollection<'s, u64, (K, u64)>,
    windows: Windows,
) -> VecCollection<'s, u64, (u64, K)> {
    panes
        .inner
        .flat_map(move |((key, pane), t, r)| {
            windows.ends_of_pane(pane).flat_map(move |end| {
                during(((end, key.clone()), t, r), end - 1, windows.purge_time(end))
            })
        })
        .as_collection()
}

/// Keeps each pane update `(key, pane)` visible from its time until the end of the pane's last
/// window (`pane_end - 1 + size`), when it is retracted: at time `end - 1` the collection holds
/// exactly the keys of the window that ends at `end`. Only valid without allowed lateness.
pub fn visible_while_open<'s, K: ExchangeData>(
    panes: VecCollection<'s, u64, (K, u64)>,
    windows: Windows,
) -> VecCollection<'s, u64, K> {
    panes
        .inner
        .flat_map(move |((key, pane), t, r)| {
            during(
                (key, t, r),
                t,
                (pane + 1) * windows.slide - 1 + windows.size,
            )
        })
        .as_collection()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pane_belongs_to_size_over_slide_windows() {
        let w = Windows::sliding(3_600_000, 300_000, 0);
        let pane = w.pane(1_511_658_000_000);
        let ends: Vec<u64> = w.ends_of_pane(pane).collect();
        assert_eq!(ends.len(), 12);
        assert_eq!(ends[0], 1_511_658_300_000);
        assert_eq!(ends[11], 1_511_658_000_000 + 3_600_000);
    }

    #[test]
    fn pane_time_waits_for_the_pane_end_but_never_moves_back() {
        let w = Windows::sliding(10_000, 5_000, 0);
        assert_eq!(w.pane_time(1_000, 1_000), 4_999);
        assert_eq!(w.pane_time(1_000, 7_000), 7_000);
    }
}
