//! The progress line of a long run, on stderr: how much of the input is read, how fast, how far
//! event time has come, what was written, and the memory it takes.
//!
//! The readers, the worker that feeds the dataflow and the sink only add to atomic counters (once
//! per batch, per completed time or per result, never per line); one ticker thread reads them and
//! owns the display. The counters are per process: in a cluster only process 0 shows them, for
//! the inputs it reads.
//!
//! What a user sees depends on where stderr goes (`docs/event-time.md`, "Progress"):
//! - a terminal: an `indicatif` line at the bottom, from the second second of a run on (a short
//!   run shows nothing), redrawn a few times a second and cleared before the accounting lines;
//!   stderr lines of the run (the first rejected lines) and results written to the same terminal
//!   are printed above it;
//! - anything else: nothing, so that logs and tests see stderr as it always was, unless
//!   `--progress` asks for plain lines (`uba: progress: ...`, no escape codes), at most one a
//!   second and a last one when the input ends.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{HumanBytes, HumanCount, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Whether and how progress is shown, as the flags and stderr decide it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Display {
    /// Nothing (`--quiet`, or stderr is not a terminal).
    Off,
    /// A redrawn line on the terminal; `at_once` (`--progress`) skips the first second's wait.
    Bar { at_once: bool },
    /// `--progress` on a stderr that is not a terminal: plain lines.
    Lines,
}

impl Display {
    /// The display for `--progress` / `--quiet` (at most one of them) on this process's stderr.
    pub fn choose(progress: bool, quiet: bool) -> Result<Display, String> {
        let terminal = std::io::stderr().is_terminal();
        Ok(match (progress, quiet) {
            (true, true) => {
                return Err(
                    "--progress and --quiet contradict each other: give at most one of them".into(),
                );
            }
            (false, true) => Display::Off,
            (true, false) if terminal => Display::Bar { at_once: true },
            (true, false) => Display::Lines,
            (false, false) if terminal => Display::Bar { at_once: false },
            (false, false) => Display::Off,
        })
    }
}

/// What the run has done so far, in this process.
struct Counters {
    bytes: AtomicU64,
    lines: AtomicU64,
    /// The summed size of the input files; `u64::MAX` once an input of unknown size (stdin, a
    /// pipe) is among them.
    total: AtomicU64,
    /// The least watermark of the inputs fed into the dataflow; 0 before the first row.
    watermark: AtomicU64,
    windows: AtomicU64,
    results: AtomicU64,
}

static COUNTERS: Counters = Counters {
    bytes: AtomicU64::new(0),
    lines: AtomicU64::new(0),
    total: AtomicU64::new(0),
    watermark: AtomicU64::new(0),
    windows: AtomicU64::new(0),
    results: AtomicU64::new(0),
};

/// The bar while it is drawn, so that other threads can print above it.
static BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// The running ticker: dropping the sender wakes it for its last update.
static TICKER: Mutex<Option<(Sender<()>, JoinHandle<()>)>> = Mutex::new(None);

/// An input of `size` bytes (`None`: unknown, such as stdin) is part of the run.
pub fn input(size: Option<u64>) {
    match size {
        Some(size) => {
            let _ = COUNTERS
                .total
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| {
                    Some(t.saturating_add(size))
                });
        }
        None => COUNTERS.total.store(u64::MAX, Ordering::Relaxed),
    }
}

/// A reader read `bytes` more bytes and finished `lines` more lines.
pub fn read(bytes: u64, lines: u64) {
    COUNTERS.bytes.fetch_add(bytes, Ordering::Relaxed);
    COUNTERS.lines.fetch_add(lines, Ordering::Relaxed);
}

/// The inputs fed into the dataflow have reached watermark `frontier` (`u64::MAX`: they ended,
/// which keeps the last watermark shown).
pub fn watermark(frontier: u64) {
    if frontier != u64::MAX {
        COUNTERS.watermark.fetch_max(frontier, Ordering::Relaxed);
    }
}

/// This process's resident memory now, from `/proc/self/statm` (Linux).
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf only reads a configuration value.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * u64::try_from(page).ok()?)
}

/// The highest watermark reported by [`watermark`], epoch ms (0: none yet): the progress line's,
/// and `/metrics`' (`metrics.rs`).
pub fn job_watermark() -> u64 {
    COUNTERS.watermark.load(Ordering::Relaxed)
}

/// A window's result was written (a first result, a correction, or a settled result).
pub fn window_written() {
    COUNTERS.windows.fetch_add(1, Ordering::Relaxed);
}

/// `n` results other than windows were written (pattern outcomes, warnings, per-key rows).
pub fn results_written(n: u64) {
    COUNTERS.results.fetch_add(n, Ordering::Relaxed);
}

/// Starts the ticker; `time` formats a watermark as the text output prints times (`--tz`).
pub fn start(display: Display, time: impl Fn(u64) -> String + Send + 'static) {
    if display == Display::Off {
        return;
    }
    let (stop, stopped) = channel::<()>();
    let started = Instant::now();
    let ticker = std::thread::Builder::new()
        .name("uba-progress".into())
        .spawn(move || {
            let (every, wait) = match display {
                Display::Bar { at_once } => (
                    Duration::from_millis(200),
                    if at_once {
                        Duration::ZERO
                    } else {
                        Duration::from_secs(1)
                    },
                ),
                _ => (Duration::from_secs(1), Duration::from_secs(1)),
            };
            loop {
                let ended = !matches!(stopped.recv_timeout(every), Err(RecvTimeoutError::Timeout));
                let snapshot = Snapshot::take(started);
                match display {
                    Display::Bar { .. } if ended => {
                        if let Some(bar) = BAR.lock().expect("progress lock").take() {
                            bar.finish_and_clear();
                        }
                        return;
                    }
                    Display::Bar { .. } if started.elapsed() >= wait => draw(&snapshot, &time),
                    Display::Lines if ended || started.elapsed() >= wait => {
                        stderr_line(&format!("uba: progress: {}", snapshot.line(&time)));
                        if ended {
                            return;
                        }
                    }
                    _ if ended => return,
                    _ => {}
                }
            }
        })
        .expect("spawning the progress thread");
    *TICKER.lock().expect("progress lock") = Some((stop, ticker));
}

/// Stops the ticker: the bar is cleared (or the last plain line printed) before this returns,
/// so that the lines printed next (the accounting) stand alone. Harmless when nothing runs.
pub fn finish() {
    let ticker = TICKER.lock().expect("progress lock").take();
    if let Some((stop, ticker)) = ticker {
        drop(stop);
        let _ = ticker.join();
    }
}

/// Prints one line on stderr, above the bar if one is drawn.
pub fn eprint_line(line: &str) {
    suspended(|| stderr_line(line));
}

/// Writes one line on stderr, and nothing when it cannot: a closed stderr (`2>&1 | head -1`)
/// must not turn into a panic (which `eprintln!` does), nor change how the run ends.
pub fn stderr_line(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Runs `f` with the bar taken off the terminal, so that what `f` prints is not mixed with it.
fn suspended<T>(f: impl FnOnce() -> T) -> T {
    let bar = BAR.lock().expect("progress lock").clone();
    match bar {
        Some(bar) => bar.suspend(f),
        None => f(),
    }
}

/// Wraps the writer of results that go to a terminal, so that they are printed above the bar
/// rather than into it. Other writers are returned as they are.
pub fn around_terminal(
    writer: Box<dyn Write + Send>,
    terminal: bool,
    display: Display,
) -> Box<dyn Write + Send> {
    if terminal && matches!(display, Display::Bar { .. }) {
        Box::new(AboveBar(writer))
    } else {
        writer
    }
}

struct AboveBar(Box<dyn Write + Send>);

impl Write for AboveBar {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        suspended(|| self.0.write_all(buf).map(|()| buf.len()))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        suspended(|| self.0.flush())
    }
}

/// The counters at one moment.
struct Snapshot {
    bytes: u64,
    lines: u64,
    total: Option<u64>,
    watermark: u64,
    windows: u64,
    results: u64,
    elapsed: f64,
    rss: Option<u64>,
}

impl Snapshot {
    fn take(started: Instant) -> Self {
        let total = COUNTERS.total.load(Ordering::Relaxed);
        Snapshot {
            bytes: COUNTERS.bytes.load(Ordering::Relaxed),
            lines: COUNTERS.lines.load(Ordering::Relaxed),
            total: (total != u64::MAX).then_some(total),
            watermark: COUNTERS.watermark.load(Ordering::Relaxed),
            windows: COUNTERS.windows.load(Ordering::Relaxed),
            results: COUNTERS.results.load(Ordering::Relaxed),
            elapsed: started.elapsed().as_secs_f64().max(1e-3),
            rss: resident_bytes(),
        }
    }

    /// Everything but the amount read: lines, speed, watermark, results, memory.
    fn details(&self, time: &dyn Fn(u64) -> String) -> String {
        let mut parts = vec![
            format!("{} lines", HumanCount(self.lines)),
            format!(
                "{} lines/s",
                HumanCount((self.lines as f64 / self.elapsed) as u64)
            ),
        ];
        parts.push(if self.watermark == 0 {
            "watermark -".into()
        } else {
            format!("watermark {}", time(self.watermark))
        });
        if self.windows > 0 || self.results == 0 {
            parts.push(format!("{} windows written", HumanCount(self.windows)));
        }
        if self.results > 0 {
            parts.push(format!("{} results written", HumanCount(self.results)));
        }
        if let Some(rss) = self.rss {
            parts.push(format!("RSS {}", HumanBytes(rss)));
        }
        parts.join(", ")
    }

    /// The bar's text, short enough for 120 columns: `94% 153.0/163.2 MiB · 4.69M lines,
    /// 594k/s · watermark ... · 1,234 windows · RSS 76.1 MiB`.
    fn compact(&self, time: &dyn Fn(u64) -> String) -> String {
        let scale = self.total.unwrap_or(self.bytes).max(self.bytes);
        let (unit, div) = [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]
            .into_iter()
            .find(|(_, div)| scale >= *div)
            .unwrap_or(("B", 1));
        let amount = |b: u64| b as f64 / div as f64;
        let mut parts = vec![match self.total {
            Some(total) if total > 0 => format!(
                "{}% {:.1}/{:.1} {unit}",
                self.bytes.saturating_mul(100) / total,
                amount(self.bytes),
                amount(total)
            ),
            _ => format!("{:.1} {unit} read", amount(self.bytes)),
        }];
        parts.push(format!(
            "{} lines, {}/s",
            short_count(self.lines),
            short_count((self.lines as f64 / self.elapsed) as u64)
        ));
        parts.push(if self.watermark == 0 {
            "watermark -".into()
        } else {
            format!("watermark {}", time(self.watermark))
        });
        if self.windows > 0 || self.results == 0 {
            parts.push(format!("{} windows", HumanCount(self.windows)));
        }
        if self.results > 0 {
            parts.push(format!("{} results", HumanCount(self.results)));
        }
        if let Some(rss) = self.rss {
            parts.push(format!("RSS {} MiB", rss >> 20));
        }
        parts.join(" · ")
    }

    /// A plain line: `2.40 MiB of 2.40 MiB read (100%), 10,000 lines, ...`.
    fn line(&self, time: &dyn Fn(u64) -> String) -> String {
        let read = match self.total {
            Some(total) if total > 0 => format!(
                "{} of {} read ({}%)",
                HumanBytes(self.bytes),
                HumanBytes(total),
                self.bytes.saturating_mul(100) / total
            ),
            _ => format!("{} read", HumanBytes(self.bytes)),
        };
        format!("{read}, {}", self.details(time))
    }
}

/// `9,999`, `594k`, `4.69M`, `1.20G`.
fn short_count(n: u64) -> String {
    match n {
        0..10_000 => HumanCount(n).to_string(),
        10_000..1_000_000 => format!("{}k", n / 1000),
        1_000_000..1_000_000_000 => format!("{:.2}M", n as f64 / 1e6),
        _ => format!("{:.2}G", n as f64 / 1e9),
    }
}

/// Draws the bar, creating it on the first call.
fn draw(snapshot: &Snapshot, time: &dyn Fn(u64) -> String) {
    let mut bar = BAR.lock().expect("progress lock");
    let bar = bar.get_or_insert_with(|| {
        let template = match snapshot.total {
            Some(_) => "{spinner} [{bar:16}] {wide_msg}",
            None => "{spinner} {wide_msg}",
        };
        let bar = ProgressBar::with_draw_target(snapshot.total, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(template)
                .expect("a valid progress template")
                .progress_chars("=> "),
        );
        bar
    });
    bar.set_position(snapshot.bytes);
    bar.set_message(snapshot.compact(time));
}

#[cfg(test)]
mod tests {
    use super::Snapshot;

    #[test]
    fn a_plain_line_says_how_much_of_the_input_is_read() {
        let snapshot = Snapshot {
            bytes: 1 << 20,
            lines: 12345,
            total: Some(4 << 20),
            watermark: 60_000,
            windows: 7,
            results: 0,
            elapsed: 2.0,
            rss: Some(3 << 20),
        };
        let time = |ms: u64| format!("t{ms}");
        assert_eq!(
            snapshot.line(&time),
            "1.00 MiB of 4.00 MiB read (25%), 12,345 lines, 6,172 lines/s, watermark t60000, \
             7 windows written, RSS 3.00 MiB"
        );
        let stdin = Snapshot {
            total: None,
            watermark: 0,
            windows: 0,
            results: 2,
            rss: None,
            ..snapshot
        };
        assert_eq!(
            stdin.line(&time),
            "1.00 MiB read, 12,345 lines, 6,172 lines/s, watermark -, 2 results written"
        );
        assert_eq!(
            snapshot.compact(&time),
            "25% 1.0/4.0 MiB · 12k lines, 6,172/s · watermark t60000 · 7 windows · RSS 3 MiB"
        );
        let big = Snapshot {
            bytes: 160 << 20,
            lines: 4_686_275,
            total: Some(170 << 20),
            elapsed: 8.0,
            ..snapshot
        };
        assert_eq!(
            big.compact(&time),
            "94% 160.0/170.0 MiB · 4.69M lines, 585k/s · watermark t60000 · 7 windows · RSS 3 MiB"
        );
    }
}
