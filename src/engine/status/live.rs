//! The latest results, handed from the output to the live page (`--http`, served by `http.rs`).
//!
//! The output keeps the rows of each completed time as JSON objects (at most [`ROWS`] per time:
//! a top N, a window's counts, the latest alerts; the rest only counted), and hands the
//! completed times over with a `try_lock`: when the server is reading at that moment, they wait
//! for the next completed time. The dataflow never waits for a reader of the page. The page
//! keeps the last [`TIMES`] times, enough to draw each item's rank over the last windows.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Rows kept per completed time.
pub const ROWS: usize = 50;
/// Completed times kept for the page.
pub const TIMES: usize = 12;

/// One completed time's rows: each a JSON object, with the table section it belongs to (ad-stats
/// writes its blacklist beside its windows).
#[derive(Clone, Debug, Default)]
pub struct Batch {
    pub time: u64,
    pub rows: Vec<(Option<&'static str>, String)>,
    /// Rows of this time beyond the first [`ROWS`].
    pub more: usize,
}

static LATEST: Mutex<VecDeque<Batch>> = Mutex::new(VecDeque::new());
static ENDED: AtomicBool = AtomicBool::new(false);

/// The output's side: the rows of the time being written, and the completed times not yet
/// handed over.
#[derive(Default)]
pub struct Publisher {
    current: Batch,
    section: Option<&'static str>,
    ready: Vec<Batch>,
}

impl Publisher {
    /// Whether the next row is kept (else [`Publisher::skip`] counts it): the caller formats it
    /// only then.
    pub fn wants_row(&self) -> bool {
        self.current.rows.len() < ROWS
    }

    pub fn row(&mut self, json: String) {
        self.current.rows.push((self.section, json));
    }

    pub fn skip(&mut self) {
        self.current.more += 1;
    }

    /// Rows that follow belong to this section of the job's table (`None`: its own).
    pub fn section(&mut self, section: Option<&'static str>) {
        self.section = section;
    }

    /// Time `time` is complete: its rows are handed over now, or with a later time if the
    /// page is being read at this moment.
    pub fn done(&mut self, time: u64) {
        if !self.current.rows.is_empty() || self.current.more > 0 {
            let mut batch = std::mem::take(&mut self.current);
            batch.time = time;
            self.ready.push(batch);
        }
        if self.ready.is_empty() {
            return;
        }
        if let Ok(mut latest) = LATEST.try_lock() {
            latest.extend(self.ready.drain(..));
            let over = latest.len().saturating_sub(TIMES);
            latest.drain(..over);
        }
    }
}

impl Drop for Publisher {
    /// The output is closed: what is still waiting is handed over, waiting for the lock now
    /// that no more results come.
    fn drop(&mut self) {
        let mut latest = LATEST.lock().unwrap_or_else(|e| e.into_inner());
        latest.extend(self.ready.drain(..));
        let over = latest.len().saturating_sub(TIMES);
        latest.drain(..over);
    }
}

/// The last completed times' rows, oldest first.
pub fn latest() -> Vec<Batch> {
    LATEST
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .cloned()
        .collect()
}

/// The run ended: every result is written.
pub fn end() {
    ENDED.store(true, Ordering::Relaxed);
}

pub fn ended() -> bool {
    ENDED.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A completed time whose hand-over finds the page reading waits for the next one, in order;
    /// only the last [`TIMES`] are kept, and a time's rows past [`ROWS`] are only counted.
    #[test]
    fn a_busy_reader_delays_the_hand_over_and_loses_nothing() {
        let mut publisher = Publisher::default();
        let reading = LATEST.lock().unwrap();
        publisher.row("{\"a\":1}".into());
        publisher.done(10);
        assert_eq!(
            publisher.ready.len(),
            1,
            "handed over while the page was read"
        );
        drop(reading);
        for i in 0..ROWS + 3 {
            if publisher.wants_row() {
                publisher.row(format!("{{\"b\":{i}}}"));
            } else {
                publisher.skip();
            }
        }
        publisher.done(11);
        let latest = latest();
        let times: Vec<u64> = latest.iter().map(|b| b.time).collect();
        assert_eq!(times, [10, 11]);
        assert_eq!((latest[1].rows.len(), latest[1].more), (ROWS, 3));
        for t in 12..12 + TIMES as u64 {
            publisher.row("{}".into());
            publisher.done(t);
        }
        let times: Vec<u64> = super::latest().iter().map(|b| b.time).collect();
        assert_eq!(times, (12..12 + TIMES as u64).collect::<Vec<_>>());
    }
}
