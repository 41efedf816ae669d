use clap::Parser;
use clap::error::ErrorKind;

use uba::cli::{Cli, dispatch, help_or_hostfile, usage_error};
use uba::engine::status::failure::{self, Failure};
use uba::jobs::jobs_reading;

fn main() {
    let cli = match Cli::try_parse_from(help_or_hostfile(std::env::args_os())) {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            e.exit()
        }
        Err(e) if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => e.exit(),
        Err(e) => failure::exit(&Failure::from(usage_error(&e))),
    };
    if let Err(mut failure) = dispatch(cli) {
        if let Some(format) = failure.looks_like {
            failure.message.push_str(&which_jobs_read(format));
        }
        failure::exit(&failure);
    }
}

/// The hint for an input of another format than the job's: the jobs that read it.
fn which_jobs_read(format: &str) -> String {
    let jobs: Vec<String> = jobs_reading(format)
        .iter()
        .map(|job| format!("`uba {job}`"))
        .collect();
    let (jobs, verb) = match jobs.split_last() {
        Some((last, [])) => (last.clone(), "reads"),
        Some((last, rest)) => (format!("{} and {last}", rest.join(", ")), "read"),
        None => ("no job".into(), "reads"),
    };
    format!("; its lines look like {format}s, which {jobs} {verb}")
}
