//! The options every job shares: timely's cluster flags, the output and accounting flags, and the
//! event-time flags.
//!
//! Each job's `Args` flattens [`OutputArgs`] and [`ClusterArgs`], so every job reads them the same
//! way; the runner takes them as they are. A job that reads event time also flattens one of
//! [`SlidingArgs`], [`TumblingArgs`] or [`OutOfOrderness`], with its own defaults as const
//! parameters (`SlidingArgs<HOUR, { 5 * MINUTE }>`).

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use clap::ArgAction;

use crate::engine::output::Format;
use crate::engine::time::windows::Windows;

/// Timely's own flags, on every job. Timely spells the hostfile `-h FILE`: that still works
/// (the command line turns it into `--hostfile FILE` before parsing: `help_or_hostfile`), and `-h`
/// with no value after it is help.
#[derive(clap::Args, Debug, Clone)]
pub struct ClusterArgs {
    /// Worker threads per process.
    #[arg(short = 'w', long = "workers", default_value_t = 1)]
    pub workers: usize,
    /// Number of processes in the cluster (each started with the same flags and its own -p).
    #[arg(short = 'n', long = "processes", default_value_t = 1)]
    pub processes: usize,
    /// This process's index in the cluster, 0 to n-1. Process 0 reads the inputs and writes the output.
    #[arg(short = 'p', long = "process", default_value_t = 0)]
    pub process: usize,
    /// Threads that parse each input file, the file's reader included [default: the workers of
    /// this process plus one, at most the machine's cores]. Decisions stay those of one pass in
    /// line order, so the results are the same for any number.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub parsers: Option<u64>,
    /// Hostfile: one `host:port` line per process, in process order (default: localhost:2101,
    /// 2102, ...). `-h FILE` works too (timely's spelling); `-h` with no value after it is help.
    #[arg(long = "hostfile", value_name = "FILE")]
    pub hostfile: Option<PathBuf>,
    /// This process's own input files, comma-separated, instead of INPUT: each process of a
    /// cluster reads its own list (the first worker of each process reads them). Every file is
    /// an input with its own watermark, decided in its own line order; the job's watermark is the
    /// least over all files of all processes, so the output stays deterministic. For jobs with
    /// one input; give it to every process.
    #[arg(long, value_name = "A.csv,B.csv")]
    pub inputs: Option<String>,
    /// How long the processes of a cluster wait for each other at the start: a process that has
    /// not connected by then is named, and every process exits with code 3.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = duration_ms)]
    pub connect_timeout: u64,
    /// How long a process of a cluster may be silent before the others count it lost (stopped,
    /// its machine off or cut off): they stop with exit code 3 within about this long.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = peer_timeout_ms)]
    pub peer_timeout: u64,
    /// Print help.
    #[arg(short = 'h', long, action = ArgAction::Help)]
    pub help: Option<bool>,
}

impl ClusterArgs {
    /// `--parsers`, or its default: a reader with one core per worker besides its own parses a
    /// file at the pace of the cheap jobs (pv over 10M rows at `-w 2` on 2 cores: 1.75 s -> 1.05 s)
    /// and costs nothing measurable where the workers are the ceiling (hot-items).
    pub fn parsers(&self) -> usize {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        self.parsers
            .map_or((self.workers + 1).min(cores), |n| n as usize)
    }
}

/// Output and accounting flags, on every job.
#[derive(clap::Args, Debug, Clone)]
pub struct OutputArgs {
    /// Output format: text for people; csv and json (one object per line) with times in epoch ms.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write results to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<String>,
    /// Also keep the results in a database table that always holds the answer: `sqlite:FILE`
    /// (bundled SQLite) or `postgres://USER@HOST/DB` (`postgres:host=/socket/dir dbname=DB` for a
    /// Unix socket). Each completed time's changes are one transaction with the job's progress
    /// row. Without `--output`, results then go only to the table.
    #[arg(long, value_name = "sqlite:FILE|postgres://...")]
    pub sink: Option<String>,
    /// The table's name in `--sink` (default: the job's name, `hot_items`).
    #[arg(long, value_name = "NAME", requires = "sink")]
    pub table: Option<String>,
    /// Continue an interrupted run into `--sink`: replay the same inputs, write nothing for the
    /// times already committed. Refused if the job, its arguments or its inputs differ.
    #[arg(long, requires = "sink")]
    pub resume: bool,
    /// Write every late record (source, line, reason, text) to FILE, as csv; without it the first
    /// 10 go to stderr and the rest are counted.
    #[arg(long, value_name = "FILE")]
    pub late: Option<String>,
    /// Write every rejected line (source, line, reason, text) to FILE, as csv; without it the
    /// first 10 go to stderr and the rest are counted.
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<String>,
    /// Zone in which the text format prints times: an offset (UTC, +08:00, -0500) or an IANA
    /// name (Asia/Shanghai, Europe/Paris), from the tz database built into uba.
    #[arg(long, default_value = "UTC", allow_hyphen_values = true)]
    pub tz: String,
    /// Bogus-timestamp guard: a row more than this away from its input's latest time (anchored at
    /// the median of the first rows) is rejected as a bogus timestamp instead of moving the
    /// watermark. `off` disables the guard.
    #[arg(long, default_value = "1d", value_name = "DURATION|off")]
    pub max_time_jump: String,
    /// A line longer than this (bytes; K, M, G suffixes: 1M = 1048576) is rejected as too long,
    /// and read past without being held in memory.
    #[arg(long, default_value = "1M", value_parser = byte_size, value_name = "BYTES")]
    pub max_line_bytes: usize,
    /// Keep reading each input file as lines are appended to it, and follow it when it is rotated
    /// (renamed and created anew, as `tail -F` does), until stopped with Ctrl-C or SIGTERM: a live
    /// stream.
    #[arg(long)]
    pub follow: bool,
    /// A Kafka input (`kafka://HOST:PORT/TOPIC`) ends at the end offsets its partitions had when
    /// the run began, as a file ends, instead of being read until stopped: a topic as a batch.
    #[arg(long)]
    pub until_end: bool,
    /// Benchmarking: read the input at this many lines per second of wall-clock time.
    #[arg(long, value_name = "LINES_PER_S")]
    pub replay_rate: Option<u64>,
    /// Benchmarking: report p50/p99 of the delay between the watermark passing a window's end
    /// and its result being written.
    #[arg(long)]
    pub report_latency: bool,
    /// Write each window once, when it can no longer change (after its allowed lateness), with
    /// its final values, instead of a first result and then corrections. Results that are
    /// already written once (pattern outcomes, warnings) are unchanged.
    #[arg(long)]
    pub settled: bool,
    /// Show a progress line on stderr even when stderr is not a terminal (then as plain lines,
    /// at most one a second). On a terminal it shows by default once a run takes a second.
    #[arg(long)]
    pub progress: bool,
    /// Show no progress line, even on a terminal.
    #[arg(long)]
    pub quiet: bool,
    /// Serve, while the job runs, a live page of its progress and latest results (`/`),
    /// Prometheus metrics (`/metrics`) and its health (`/healthz`) on ADDR: `HOST:PORT`, or a
    /// port alone on 127.0.0.1; port 0 picks a free one, printed on stderr. In a cluster,
    /// process 0 serves.
    #[arg(long, value_name = "ADDR")]
    pub http: Option<String>,
}

impl OutputArgs {
    pub fn zone(&self) -> Result<crate::engine::time::time_fmt::Zone, String> {
        crate::engine::time::time_fmt::Zone::parse(&self.tz).map_err(|e| format!("--tz: {e}"))
    }

    /// How progress is shown on this process's stderr (`--progress`, `--quiet`).
    pub fn progress(&self) -> Result<crate::engine::status::progress::Display, String> {
        crate::engine::status::progress::Display::choose(self.progress, self.quiet)
    }

    pub fn max_time_jump(&self) -> Result<Option<u64>, String> {
        match self.max_time_jump.as_str() {
            "off" | "none" => Ok(None),
            other => duration_ms(other)
                .map(Some)
                .map_err(|e| format!("--max-time-jump: {e}")),
        }
    }
}

/// Durations in milliseconds, for the event-time defaults of the jobs' `Args`.
pub const SECOND: u64 = 1_000;
pub const MINUTE: u64 = 60 * SECOND;
pub const HOUR: u64 = 60 * MINUTE;

/// `--out-of-orderness`, with the job's default in milliseconds; on every job that reads event
/// time, alone or in [`TumblingArgs`] and [`SlidingArgs`].
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct OutOfOrderness<const MS: u64 = 0> {
    /// Bounded out-of-orderness of each input: its watermark trails its latest time by this much.
    #[arg(long, default_value = shown(MS), value_parser = duration_ms)]
    pub out_of_orderness: u64,
}

/// `--window`, with the job's default in milliseconds.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct WindowSize<const MS: u64> {
    /// Window size.
    #[arg(long, default_value = shown(MS), value_parser = duration_ms)]
    pub window: u64,
}

/// `--allowed-lateness`, with the job's default in milliseconds.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct AllowedLateness<const MS: u64 = 0> {
    /// How long after a window's end late records still correct it (`update: true`); later ones
    /// go to the late side output.
    #[arg(long, default_value = shown(MS), value_parser = duration_ms)]
    pub allowed_lateness: u64,
}

/// The event-time flags of a job with tumbling windows (`--window`, `--out-of-orderness`,
/// `--allowed-lateness`), with its defaults in milliseconds.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct TumblingArgs<const WINDOW: u64, const OUT_OF_ORDERNESS: u64 = 0, const LATENESS: u64 = 0>
{
    #[command(flatten)]
    pub size: WindowSize<WINDOW>,
    #[command(flatten)]
    pub order: OutOfOrderness<OUT_OF_ORDERNESS>,
    #[command(flatten)]
    pub lateness: AllowedLateness<LATENESS>,
}

impl<const W: u64, const O: u64, const L: u64> TumblingArgs<W, O, L> {
    /// The windows, once `--window` is checked (longer than 0).
    pub fn windows(&self) -> Result<Windows, String> {
        Windows::validate(self.size.window, self.size.window)?;
        Ok(Windows::tumbling(
            self.size.window,
            self.lateness.allowed_lateness,
        ))
    }

    pub fn out_of_orderness(&self) -> u64 {
        self.order.out_of_orderness
    }
}

/// The event-time flags of a job with sliding windows (`--window`, `--slide`,
/// `--out-of-orderness`, `--allowed-lateness`), with its defaults in milliseconds.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct SlidingArgs<
    const WINDOW: u64,
    const SLIDE: u64,
    const OUT_OF_ORDERNESS: u64 = 0,
    const LATENESS: u64 = 0,
> {
    #[command(flatten)]
    pub size: WindowSize<WINDOW>,
    /// Window slide; the window size must be a multiple of it.
    #[arg(long, default_value = shown(SLIDE), value_parser = duration_ms)]
    pub slide: u64,
    #[command(flatten)]
    pub order: OutOfOrderness<OUT_OF_ORDERNESS>,
    #[command(flatten)]
    pub lateness: AllowedLateness<LATENESS>,
}

impl<const W: u64, const S: u64, const O: u64, const L: u64> SlidingArgs<W, S, O, L> {
    /// The windows, once `--window` and `--slide` are checked (longer than 0, the window a
    /// multiple of the slide).
    pub fn windows(&self) -> Result<Windows, String> {
        Windows::validate(self.size.window, self.slide)?;
        Ok(Windows::sliding(
            self.size.window,
            self.slide,
            self.lateness.allowed_lateness,
        ))
    }

    pub fn out_of_orderness(&self) -> u64 {
        self.order.out_of_orderness
    }
}

/// A default duration as `--help` shows it (`[default: 1h]`), the way users write it: `0`,
/// `250ms`, `3s`, `1h`. Each distinct default is made once and kept: clap wants a `&'static str`.
///
/// Not `default_value_t = MS`: clap's derive keeps that string in one `static` per field, which
/// every instantiation of a generic struct shares, so every job would show and use the default
/// of the first job whose flags were built (clap-rs/clap#5127).
fn shown(ms: u64) -> &'static str {
    static SHOWN: Mutex<Vec<(u64, &'static str)>> = Mutex::new(Vec::new());
    let mut shown = SHOWN.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(&(_, text)) = shown.iter().find(|(m, _)| *m == ms) {
        return text;
    }
    let text: &'static str = if ms == 0 {
        "0"
    } else {
        let text = humantime::format_duration(Duration::from_millis(ms)).to_string();
        Box::leak(text.into_boxed_str())
    };
    shown.push((ms, text));
    text
}

/// Parses a size in bytes: `4096`, `64K`, `1M`, `1G` (powers of 1024; `KiB`, `MB`... also read).
pub fn byte_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(digits);
    let shift = match unit
        .trim()
        .to_ascii_uppercase()
        .trim_end_matches("IB")
        .trim_end_matches('B')
    {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        _ => return Err(format!("'{s}' is not a size like 4096, 64K, 1M or 1G")),
    };
    number
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("'{s}' is not a size like 4096, 64K, 1M or 1G"))
}

/// Parses `1h`, `5m`, `5s`, `250ms` (and combinations like `1h 30m`) into milliseconds.
pub fn duration_ms(s: &str) -> Result<u64, String> {
    if s.trim() == "0" {
        return Ok(0);
    }
    humantime::parse_duration(s.trim())
        .map(|d| d.as_millis() as u64)
        .map_err(|e| format!("'{s}' is not a duration like 1h, 5m, 5s or 250ms ({e})"))
}

/// [`duration_ms`], at least a second: the processes send each other word several times within it.
fn peer_timeout_ms(s: &str) -> Result<u64, String> {
    match duration_ms(s)? {
        ms if ms < 1000 => Err(format!(
            "'{s}' is too short for --peer-timeout: at least 1s"
        )),
        ms => Ok(ms),
    }
}

#[cfg(test)]
mod tests {
    use clap::{Args, Command, FromArgMatches};

    use super::*;

    /// Each flag of `A` with its default as `--help` shows it.
    fn defaults<A: Args>() -> Vec<(String, String)> {
        A::augment_args(Command::new("job"))
            .get_arguments()
            .map(|a| {
                let shown: Vec<String> = a
                    .get_default_values()
                    .iter()
                    .map(|v| v.to_string_lossy().into_owned())
                    .collect();
                (a.get_id().to_string(), shown.join(","))
            })
            .collect()
    }

    fn parse<A: Args + FromArgMatches>(argv: &[&str]) -> A {
        let matches = A::augment_args(Command::new("job"))
            .try_get_matches_from(std::iter::once("job").chain(argv.iter().copied()))
            .unwrap();
        A::from_arg_matches(&matches).unwrap()
    }

    fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected
            .iter()
            .map(|&(id, shown)| (id.to_owned(), shown.to_owned()))
            .collect()
    }

    #[test]
    fn every_instantiation_has_its_own_defaults() {
        // Built one after the other in one process, as the subcommands of `uba` are: with
        // `default_value_t`, the second would show and use the first one's defaults.
        assert_eq!(
            defaults::<SlidingArgs<HOUR, { 5 * MINUTE }>>(),
            pairs(&[
                ("window", "1h"),
                ("slide", "5m"),
                ("out_of_orderness", "0"),
                ("allowed_lateness", "0"),
            ])
        );
        assert_eq!(
            defaults::<SlidingArgs<MINUTE, { 5 * SECOND }, { 3 * SECOND }, MINUTE>>(),
            pairs(&[
                ("window", "1m"),
                ("slide", "5s"),
                ("out_of_orderness", "3s"),
                ("allowed_lateness", "1m"),
            ])
        );
        assert_eq!(
            defaults::<TumblingArgs<{ 30 * MINUTE }, 250>>(),
            pairs(&[
                ("window", "30m"),
                ("out_of_orderness", "250ms"),
                ("allowed_lateness", "0"),
            ])
        );
        assert_eq!(
            defaults::<OutOfOrderness<{ HOUR + 30 * SECOND }>>(),
            pairs(&[("out_of_orderness", "1h 30s")])
        );
        let hot_pages: SlidingArgs<MINUTE, { 5 * SECOND }, { 3 * SECOND }, MINUTE> = parse(&[]);
        assert_eq!(
            hot_pages.windows(),
            Ok(Windows::sliding(MINUTE, 5 * SECOND, MINUTE))
        );
        assert_eq!(hot_pages.out_of_orderness(), 3 * SECOND);
    }

    #[test]
    fn flags_read_durations_and_windows_are_checked() {
        let sliding: SlidingArgs<HOUR, { 5 * MINUTE }> = parse(&[
            "--window",
            "10m",
            "--slide=5m 30s",
            "--out-of-orderness",
            "250ms",
        ]);
        assert_eq!(sliding.size.window, 10 * MINUTE);
        assert_eq!(sliding.slide, 5 * MINUTE + 30 * SECOND);
        assert_eq!(sliding.out_of_orderness(), 250);
        assert_eq!(
            sliding.windows(),
            Err("--window (600000 ms) must be a multiple of --slide (330000 ms): windows are built from slide-long panes".into())
        );
        let tumbling: TumblingArgs<HOUR> = parse(&["--window", "0", "--allowed-lateness", "1m"]);
        assert_eq!(
            tumbling.windows(),
            Err("--window and --slide must be longer than 0 ms".into())
        );
        let tumbling: TumblingArgs<HOUR> = parse(&["--allowed-lateness", "1m"]);
        assert_eq!(tumbling.windows(), Ok(Windows::tumbling(HOUR, MINUTE)));
    }
}
