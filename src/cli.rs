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
    #[command(disable_help_flag = true, args_override_self = true)]
    HotItems(jobs::hot_items::Args),
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
        Command::Funnel(args) => jobs::funnel::run(args),
        Command::UserProfile(args) => jobs::user_profile::run(args),
        Command::Recommend(args) => jobs::recommend::run(args),
        Command::Gen(cmd) => crate::generate::run(&cmd),
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
