//! The `uba` command line, and `uba run JOBFILE`, which turns a TOML job file into one.

pub mod cluster;
pub mod produce;
pub mod report;

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use crate::engine::status::failure::Failure;
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
    /// Writes a hostfile with free ports on 127.0.0.1, starts `uba JOB ARGS -w W -n N -p I
    /// --hostfile HOSTFILE` for each process, labels their messages, and stops all of them if one fails.
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
    /// Fills a Kafka topic from a file: `uba produce data.csv kafka://127.0.0.1:9092/hotitems`.
    ///
    /// Every line is one record (its value, no key), line `i` going to partition `i % P` of the
    /// topic's `P` partitions. `uba gen ... --out kafka://HOST:PORT/TOPIC` fills one from a
    /// generator (with `--follow --rate N`, live).
    Produce(crate::cli::produce::Args),
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
    let job = match table.get("job") {
        Some(toml::Value::String(name)) => name.clone(),
        Some(_) => {
            return Err(format!(
                "job file '{}': 'job' must be a string, the job's name",
                path.display()
            ));
        }
        None => {
            return Err(format!(
                "job file '{}' has no `job = \"...\"` line",
                path.display()
            ));
        }
    };
    // An unknown job is left to clap, which suggests the nearest name.
    let job_flags = long_flags_of(&job);
    let mut inputs = Vec::new();
    let mut flags = Vec::new();
    for (key, value) in &table {
        match (key.as_str(), value) {
            ("job", _) => {}
            ("inputs", toml::Value::Array(paths)) => {
                for p in paths {
                    let p = p.as_str().ok_or_else(|| {
                        format!("job file '{}': inputs must be strings", path.display())
                    })?;
                    inputs.push(relative_to(base, p));
                }
            }
            ("inputs", _) => {
                return Err(format!(
                    "job file '{}': 'inputs' must be a list of paths",
                    path.display()
                ));
            }
            (key, _)
                if job_flags
                    .as_ref()
                    .is_some_and(|f| !f.iter().any(|f| f == key)) =>
            {
                return Err(format!(
                    "job file '{}': unknown key '{key}': {} has no --{key} flag",
                    path.display(),
                    job
                ));
            }
            ("output" | "late" | "rejects", toml::Value::String(file)) => {
                flags.extend([format!("--{key}"), relative_to(base, file)]);
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

/// A path written in a job file, which means the same wherever the job is run from: relative
/// to the file's folder, as `inputs` are (`-`, stdin or stdout, stays itself).
fn relative_to(base: &Path, file: &str) -> String {
    if file == "-" {
        file.to_owned()
    } else {
        base.join(file).to_string_lossy().into_owned()
    }
}

/// The `--long` flags of a job, from its clap definition (so a job file's keys are checked
/// against exactly what the command line accepts); `None` when there is no such job.
fn long_flags_of(job: &str) -> Option<Vec<String>> {
    use clap::CommandFactory;
    let cli = Cli::command();
    let job = cli
        .get_subcommands()
        .find(|c| c.get_name() == job && !["run", "cluster", "gen"].contains(&job))?;
    Some(
        job.get_arguments()
            .filter_map(|a| a.get_long())
            .filter(|long| *long != "help")
            .map(String::from)
            .collect(),
    )
}

/// Gives `-h` its two meanings before clap sees it: followed by a value (an argument that does
/// not start with `-`) it is timely's hostfile flag, `--hostfile VALUE`; alone (the last
/// argument, or followed by another flag) it asks for help, as in every other command line.
/// clap cannot decide this itself: an argument either takes a value or it does not.
pub fn help_or_hostfile<I, S>(args: I) -> Vec<std::ffi::OsString>
where
    I: IntoIterator<Item = S>,
    S: Into<std::ffi::OsString>,
{
    let mut args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    for i in 0..args.len() {
        if args[i] != "-h" {
            continue;
        }
        let value_follows = args
            .get(i + 1)
            .is_some_and(|next| !next.to_string_lossy().starts_with('-'));
        args[i] = if value_follows {
            "--hostfile"
        } else {
            "--help"
        }
        .into();
    }
    args
}

/// Runs one parsed command.
pub fn dispatch(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Job(job) => {
            // Not reached from `uba run`, which recorded the job file's command line first.
            record_invocation(&std::env::args().collect::<Vec<_>>());
            job.run()
        }
        Command::Gen(cmd) => Ok(crate::generate::run(&cmd)?),
        Command::Cluster(args) => Ok(crate::cli::cluster::run(args)?),
        Command::Report(args) => crate::cli::report::run(args),
        Command::Produce(args) => Ok(crate::cli::produce::run(&args)?),
        Command::Run(run) => {
            let argv = job_file_args(&run)?;
            record_invocation(&argv);
            let cli = match Cli::try_parse_from(help_or_hostfile(&argv)) {
                Ok(cli) => cli,
                Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => e.exit(),
                Err(e) => {
                    return Err(format!(
                        "job file '{}': {}",
                        run.jobfile.display(),
                        usage_error(&e)
                    )
                    .into());
                }
            };
            if matches!(cli.command, Command::Run(_)) {
                return Err("a job file cannot run another job file".into());
            }
            dispatch(cli)
        }
    }
}

/// Tells the engine the job's command line (`uba JOB ARGS...`): a table sink names its table
/// after the job and fingerprints its arguments for `--resume`. A flag that takes a value is
/// joined to it (`--tz=-05:00`), as clap reads it, so that a value that starts with `-` is
/// never taken for a flag.
fn record_invocation(argv: &[String]) {
    use clap::CommandFactory;
    let [_, job, args @ ..] = argv else {
        return;
    };
    let command = Cli::command();
    let takes_value = |flag: &str| {
        let Some(sub) = command.find_subcommand(job) else {
            return false;
        };
        sub.get_arguments().any(|a| {
            let named = match flag.strip_prefix("--") {
                Some(long) => a.get_long() == Some(long),
                None => flag.len() == 2 && a.get_short() == flag.chars().nth(1),
            };
            named && a.get_action().takes_values()
        })
    };
    let mut joined = Vec::with_capacity(args.len());
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match rest.clone().next() {
            Some(value) if arg.starts_with('-') && !arg.contains('=') && takes_value(arg) => {
                joined.push(format!("{arg}={value}"));
                rest.next();
            }
            _ => joined.push(arg.clone()),
        }
    }
    crate::engine::status::invocation::set_invocation(job, joined);
    crate::engine::status::metrics::set_job(job);
}

/// clap's complete message (the missing argument's name, the similar flag, the possible values,
/// the usage line) without its `error: ` prefix: the caller adds `uba: ` and exits with 2.
pub fn usage_error(e: &clap::Error) -> String {
    let rendered = e.render().to_string();
    let message = rendered.trim_end();
    message
        .strip_prefix("error: ")
        .unwrap_or(message)
        .to_owned()
}
