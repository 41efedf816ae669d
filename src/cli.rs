//! The `uba` command line, and `uba run JOBFILE`, which turns a TOML job file into one.

use std::path::{Path, PathBuf};

use clap::{ArgAction, Parser, Subcommand};

use crate::jobs;
use crate::output::Format;

/// E-commerce user-behaviour analytics on timely and differential dataflow.
///
/// Every job reads its input files (or `-` for stdin) in event time, writes its results to stdout
/// (or `--output FILE`), and ends with one accounting line per input on stderr.
#[derive(Parser, Debug)]
#[command(
    name = "uba",
    version,
    disable_help_subcommand = true,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Top N items by page views in each sliding window (the tutorial's HotItems).
    ///
    /// Counts the `pv` rows of each item over windows of --window sliding by --slide (aligned to
    /// the epoch, UTC) and prints the --top items of each window when the watermark passes its
    /// end. Ties: count descending, then item id ascending (as numbers). Other behaviours move the
    /// watermark but are not counted. With no INPUT it reads the sample in data/.
    #[command(disable_help_flag = true, args_override_self = true)]
    HotItems(jobs::hot_items::Args),
    /// Top N URLs by GET requests in each sliding window of a web server log (HotPages).
    #[command(disable_help_flag = true, args_override_self = true)]
    HotPages(jobs::hot_pages::Args),
    /// Page views (`pv` rows) per tumbling window (PageView).
    #[command(disable_help_flag = true, args_override_self = true)]
    Pv(jobs::pv::Args),
    /// Distinct users among `pv` rows per tumbling window: exact, Bloom filter or HyperLogLog (UniqueVisitor).
    #[command(disable_help_flag = true, args_override_self = true)]
    Uv(jobs::uv::Args),
    /// Marketing events per channel and behaviour in sliding windows (AppMarketingByChannel;
    /// `--total` for AppMarketingTotal); reads a live stream from stdin with `-`.
    ///
    /// Counts the non-UNINSTALL events (UNINSTALL rows are counted as filtered, and still move
    /// the watermark) per (channel, behavior) over each window, every key of a window printed,
    /// ordered by count descending, then channel ascending, then behavior (CLICK, DOWNLOAD,
    /// INSTALL); `--total` prints one count per window instead. Windows are aligned to the epoch
    /// (UTC); a late event joins those of its windows that have not fired (or are within
    /// --allowed-lateness: `update: true`), else it goes to the late output. With `-` the job
    /// reads a live stream: each window is written as soon as the stream passes its end, and
    /// Ctrl-C (or the end of input) fires the pending windows and writes the accounting line.
    #[command(disable_help_flag = true, args_override_self = true)]
    AppMarketing(jobs::app_marketing::Args),
    /// Ad clicks per province in sliding windows, after a click-fraud blacklist (AdStatisticsByGeo).
    ///
    /// Per (user, ad) and per day (00:00 to 24:00 in --day-tz, by the click's event time), the
    /// first --max-clicks clicks pass; the next one raises one warning (`outcome: blacklist`:
    /// user_id, ad_id, day, clicks_so_far, first_blocked_at) and it and the pair's later clicks
    /// that day are dropped; the next day starts from zero. "First" is the order in which clicks
    /// enter event time: their own time, or the watermark for a late click that still joins a
    /// window; equal times in input order. A click that passed is never taken back. The clicks
    /// that pass are counted per province in each window (`outcome: count`), ordered by count
    /// descending, then province ascending. A late click with no window left goes to the late
    /// output and does not count toward the limit. Both outcomes share one output (one csv
    /// header; `--only` picks one).
    #[command(disable_help_flag = true, args_override_self = true)]
    AdStats(jobs::ad_stats::Args),
    /// Users who fail to log in N times in a row within T (the tutorial's LoginFail).
    ///
    /// Per user, in event-time order (equal times in input order): N consecutive `fail` events,
    /// no `success` between them, from any IP, the first and the last at most T apart
    /// (inclusive). Every run is reported, overlapping ones too, at its last fail. A login behind
    /// the watermark goes to the late output.
    #[command(disable_help_flag = true, args_override_self = true)]
    LoginFail(jobs::login_fail::Args),
    /// Orders paid in time, timed out, paid late, or paid without a create (OrderTimeout).
    ///
    /// The earliest create c and earliest pay p of an order decide: `paid` (c <= p <= c +
    /// timeout, at p), `timeout` (at c + timeout), `paid_late` (after the timeout, at p),
    /// `pay_without_create` (no create at or before p, or p more than --retention after it).
    /// Bounds are inclusive; further events of an order are counted on stderr. Every record
    /// behind the watermark goes to the late output.
    #[command(disable_help_flag = true, args_override_self = true)]
    OrderTimeout(jobs::order_timeout::Args),
    /// Pays matched against payment receipts by txId, within bounds (the tutorial's TxMatch).
    ///
    /// The earliest pay p and receipt r of a txId match when p - before <= r <= p + after
    /// (inclusive), reported at max(p, r); otherwise `unmatched_pay` at p + after and
    /// `unmatched_receipt` at r + before. Each input has its own watermark; the job's is their
    /// minimum. Decided in event time: on the sample most receipts come more than 3 s before
    /// their pay (try --receipt-before 30m).
    #[command(disable_help_flag = true, args_override_self = true)]
    TxMatch(jobs::tx_match::Args),
    /// Shopping funnel per hour and per day, overall and per category: users, events, conversion.
    #[command(disable_help_flag = true, args_override_self = true)]
    Funnel(jobs::funnel::Args),
    /// Per-user profile over a sliding horizon: behaviour counts, top categories, segment.
    #[command(disable_help_flag = true, args_override_self = true)]
    UserProfile(jobs::user_profile::Args),
    /// Item-to-item collaborative filtering over a sliding horizon; `--evaluate T` against popularity.
    #[command(disable_help_flag = true, args_override_self = true)]
    Recommend(jobs::recommend::Args),
    /// Runs a job file: `uba run jobs/hot-items.toml [INPUTS...] [FLAGS...]`.
    ///
    /// A job file is TOML: `job = "hot-items"`, `inputs = ["../data/x.csv"]` (relative to the job
    /// file), and any of the job's flags as keys (`window = "1h"`, `top = 5`, `exclude-static =
    /// true`). Flags given on the command line override the file; inputs given before the first
    /// flag replace the file's inputs.
    Run(RunArgs),
    /// Runs a job as a cluster of local processes: `uba cluster --processes 2 --workers 2 hot-items data.csv`.
    ///
    /// Writes a hostfile with free ports on 127.0.0.1, starts `uba JOB ARGS -w W -n N -p I -h
    /// HOSTFILE` for each process, labels their messages, and stops all of them if one fails.
    /// Results are gathered by the job itself: process 0's stdout is the output.
    Cluster(crate::cluster::Args),
    /// Reads an input and does nothing else: the parse-only pass the benchmarks compare against.
    #[command(disable_help_flag = true, args_override_self = true)]
    Parse(jobs::parse::Args),
    /// Writes deterministic sample data (same seed, same bytes).
    #[command(subcommand)]
    Gen(crate::generate::GenCommand),
}

/// Timely's own flags, on every job. `-h` is the hostfile, as in timely; help is `--help`.
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
    /// Hostfile: one `host:port` line per process, in process order (default: localhost:2101, 2102, ...).
    #[arg(short = 'h', long = "hostfile")]
    pub hostfile: Option<PathBuf>,
    /// This process's own input files, comma-separated, instead of INPUT: each process of a
    /// cluster reads its own list (the first worker of each process reads them). Every file is
    /// an input with its own watermark, decided in its own line order; the job's watermark is the
    /// least over all files of all processes, so the output stays deterministic. For jobs with
    /// one input; give it to every process.
    #[arg(long, value_name = "A.csv,B.csv")]
    pub inputs: Option<String>,
    /// Print help.
    #[arg(long, action = ArgAction::Help)]
    pub help: Option<bool>,
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
    /// Write every late record (source, line, reason, text) to FILE, as csv; without it the first
    /// 10 go to stderr and the rest are counted.
    #[arg(long, value_name = "FILE")]
    pub late: Option<String>,
    /// Write every rejected line (source, line, reason, text) to FILE, as csv; without it the
    /// first 10 go to stderr and the rest are counted.
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<String>,
    /// Zone in which the text format prints times: UTC (default), +08:00, -0500, ...
    #[arg(long, default_value = "UTC")]
    pub tz: String,
    /// Bogus-timestamp guard: a row more than this away from its input's latest time (anchored at
    /// the median of the first rows) is rejected as a bogus timestamp instead of moving the
    /// watermark. `off` disables the guard.
    #[arg(long, default_value = "1d", value_name = "DURATION|off")]
    pub max_time_jump: String,
    /// Benchmarking: read the input at this many lines per second of wall-clock time.
    #[arg(long, value_name = "LINES_PER_S")]
    pub replay_rate: Option<u64>,
    /// Benchmarking: report p50/p99 of the delay between the watermark passing a window's end
    /// and its result being written.
    #[arg(long)]
    pub report_latency: bool,
}

impl OutputArgs {
    pub fn zone(&self) -> Result<time::UtcOffset, String> {
        crate::time_fmt::parse_zone(&self.tz).map_err(|e| format!("--tz: {e}"))
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

/// Parses `1h`, `5m`, `5s`, `250ms` (and combinations like `1h 30m`) into milliseconds.
pub fn duration_ms(s: &str) -> Result<u64, String> {
    if s.trim() == "0" {
        return Ok(0);
    }
    humantime::parse_duration(s.trim())
        .map(|d| d.as_millis() as u64)
        .map_err(|e| format!("'{s}' is not a duration like 1h, 5m, 5s or 250ms ({e})"))
}

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The job file (TOML).
    pub jobfile: PathBuf,
    /// Inputs that replace the file's, then flags that override the file's keys.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

/// Turns a job file and extra arguments into the command line it stands for.
pub fn job_file_args(run: &RunArgs) -> Result<Vec<String>, String> {
    let path = &run.jobfile;
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read job file '{}': {e}", path.display()))?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        format!(
            "job file '{}' is not valid TOML: {}",
            path.display(),
            e.message()
        )
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut job = None;
    let mut inputs = Vec::new();
    let mut flags = Vec::new();
    for (key, value) in &table {
        match (key.as_str(), value) {
            ("job", toml::Value::String(name)) => job = Some(name.clone()),
            ("inputs", toml::Value::Array(paths)) => {
                for p in paths {
                    let p = p.as_str().ok_or_else(|| {
                        format!("job file '{}': inputs must be strings", path.display())
                    })?;
                    inputs.push(if p == "-" {
                        p.to_owned()
                    } else {
                        base.join(p).to_string_lossy().into_owned()
                    });
                }
            }
            ("job" | "inputs", _) => {
                return Err(format!(
                    "job file '{}': '{key}' must be a string (job) or a list of paths (inputs)",
                    path.display()
                ));
            }
            (_, toml::Value::Boolean(true)) => flags.push(format!("--{key}")),
            (_, toml::Value::Boolean(false)) => {}
            (_, toml::Value::String(s)) => flags.extend([format!("--{key}"), s.clone()]),
            (_, toml::Value::Integer(i)) => flags.extend([format!("--{key}"), i.to_string()]),
            (_, toml::Value::Float(f)) => flags.extend([format!("--{key}"), f.to_string()]),
            (_, other) => {
                return Err(format!(
                    "job file '{}': the value of '{key}' must be a string, number or boolean, not {}",
                    path.display(),
                    other.type_str()
                ));
            }
        }
    }
    let job =
        job.ok_or_else(|| format!("job file '{}' has no `job = \"...\"` line", path.display()))?;
    let cli_inputs: Vec<String> = run
        .args
        .iter()
        .take_while(|a| !a.starts_with('-') || *a == "-")
        .cloned()
        .collect();
    let cli_flags = &run.args[cli_inputs.len()..];
    let inputs = if cli_inputs.is_empty() {
        inputs
    } else {
        cli_inputs
    };
    let mut argv = vec!["uba".to_owned(), job];
    argv.extend(inputs);
    argv.extend(flags);
    argv.extend(cli_flags.iter().cloned());
    Ok(argv)
}

/// Runs one parsed command.
pub fn dispatch(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::HotItems(args) => jobs::hot_items::run(args),
        Command::HotPages(args) => jobs::hot_pages::run(args),
        Command::Pv(args) => jobs::pv::run(args),
        Command::Uv(args) => jobs::uv::run(args),
        Command::AppMarketing(args) => jobs::app_marketing::run(args),
        Command::AdStats(args) => jobs::ad_stats::run(args),
        Command::LoginFail(args) => jobs::login_fail::run(args),
        Command::OrderTimeout(args) => jobs::order_timeout::run(args),
        Command::TxMatch(args) => jobs::tx_match::run(args),
        Command::Funnel(args) => jobs::funnel::run(args),
        Command::UserProfile(args) => jobs::user_profile::run(args),
        Command::Recommend(args) => jobs::recommend::run(args),
        Command::Gen(cmd) => crate::generate::run(&cmd),
        Command::Cluster(args) => crate::cluster::run(args),
        Command::Parse(args) => jobs::parse::run(args),
        Command::Run(run) => {
            let argv = job_file_args(&run)?;
            let cli = Cli::try_parse_from(&argv).map_err(|e| usage_error(&e))?;
            if matches!(cli.command, Command::Run(_)) {
                return Err("a job file cannot run another job file".into());
            }
            dispatch(cli)
        }
    }
}

/// Condenses clap's usage error into one sentence.
pub fn usage_error(e: &clap::Error) -> String {
    let rendered = e.render().to_string();
    let first = rendered.lines().next().unwrap_or("invalid arguments");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    format!("{first} (see --help)")
}
