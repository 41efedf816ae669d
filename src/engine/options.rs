//! The options every job shares: timely's cluster flags, and the output and accounting flags.
//!
//! Each job's `Args` flattens [`OutputArgs`] and [`ClusterArgs`], so every job reads them the same
//! way; the runner takes them as they are.

use std::path::PathBuf;

use clap::ArgAction;

use crate::engine::output::Format;

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
