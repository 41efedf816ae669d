//! The `uba` command line, and `uba run JOBFILE`, which turns a TOML job file into one.

pub mod cluster;
pub mod report;

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use crate::engine::failure::Failure;
use crate::jobs;

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

// Parsed once per run: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum Command {
    /// The jobs, one subcommand each (see `crate::jobs`).
    #[command(flatten)]
    Job(jobs::Job),
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
    Cluster(crate::cli::cluster::Args),
    /// Writes deterministic sample data (same seed, same bytes).
    #[command(subcommand)]
    Gen(crate::generate::GenCommand),
    /// Writes an HTML page of charts from the jobs' results: `uba report --output report.html`.
    ///
    /// PV and UV per hour (exact, Bloom filter and HyperLogLog side by side), the ranks of the
    /// top items and top pages over time, the funnel per behaviour, ad clicks per province, and
    /// the outcomes of the risk jobs over time. Each input defaults to the tutorial's sample in
    /// `data/tutorial/`; a section whose input is missing is left out with a note. No script, no
    /// web font, no link: one file that any browser shows offline.
    Report(crate::cli::report::Args),
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
pub fn dispatch(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Job(job) => job.run(),
        Command::Gen(cmd) => Ok(crate::generate::run(&cmd)?),
        Command::Cluster(args) => Ok(crate::cli::cluster::run(args)?),
        Command::Report(args) => crate::cli::report::run(args),
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
