//! Window latency, for `--report-latency`: how long after the watermark passed a window's end
//! its result was written.
//!
//! The reader notes when each batch moved its watermark (and when its input ended); the sink, when
//! it writes a window's first result, looks up the first mark at or past the window's end. One
//! table per process is enough: the reader and the sink both live on global worker 0's process.
//! Meant for single-input jobs, as the benchmark uses it.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

static ENABLED: AtomicBool = AtomicBool::new(false);
static TABLE: Mutex<Table> = Mutex::new(Table {
    marks: VecDeque::new(),
    samples: Vec::new(),
});

struct Table {
    /// (watermark, when it was reached), in watermark order.
    marks: VecDeque<(u64, Instant)>,
    samples: Vec<Duration>,
}

pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

/// The reader reached watermark `frontier` (`u64::MAX`: its input ended).
pub fn watermark(frontier: u64) {
    if ENABLED.load(Ordering::Relaxed) {
        let mut table = TABLE.lock().expect("latency lock");
        if table.marks.back().is_none_or(|&(f, _)| f < frontier) {
            table.marks.push_back((frontier, Instant::now()));
        }
    }
}

/// The first result of the window that ends at `end` was just written.
pub fn window_written(end: u64) {
    if ENABLED.load(Ordering::Relaxed) {
        let mut table = TABLE.lock().expect("latency lock");
        while table.marks.len() > 1 && table.marks[1].0 < end {
            table.marks.pop_front();
        }
        if let Some(&(_, at)) = table.marks.iter().find(|(f, _)| *f >= end) {
            table.samples.push(at.elapsed());
        }
    }
}

/// The summary line, if latency was measured.
pub fn report() -> Option<String> {
    if !ENABLED.load(Ordering::Relaxed) {
        return None;
    }
    let mut samples = std::mem::take(&mut TABLE.lock().expect("latency lock").samples);
    if samples.is_empty() {
        return Some("window latency: no window fired".into());
    }
    samples.sort();
    let at =
        |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e3;
    Some(format!(
        "window latency over {} windows: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        samples.len(),
        at(0.5),
        at(0.99),
        at(1.0)
    ))
}
