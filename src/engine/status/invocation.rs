//! What is running: the job, its arguments and the build of uba. A table's progress row keeps
//! them, so that `--resume` never mixes two runs' results; the processes of a cluster compare
//! them before they connect, so that no process joins a cluster that computes something else.

use std::sync::OnceLock;

/// The command line a job was started with: its name and arguments, set once by the command line
/// before the job runs. The table's default name and the resume fingerprint come from it.
static INVOCATION: OnceLock<(String, Vec<String>)> = OnceLock::new();

/// Records the job's name and its arguments (everything after the name).
pub fn set_invocation(job: &str, args: Vec<String>) {
    let _ = INVOCATION.set((job.to_owned(), args));
}

/// The job's name and arguments, as [`set_invocation`] recorded them.
pub fn invocation() -> (String, Vec<String>) {
    INVOCATION
        .get()
        .cloned()
        .unwrap_or_else(|| ("uba".into(), Vec::new()))
}

/// Flags that change where or how results are written, not what they are: a resume may change
/// them (more workers, another output file).
const NEUTRAL_WITH_VALUE: &[&str] = &[
    "-w",
    "--workers",
    "-n",
    "--processes",
    "-p",
    "--process",
    "-h",
    "--hostfile",
    "--output",
    "--late",
    "--rejects",
    "--format",
    "--tz",
    "--sink",
    "--table",
    "--replay-rate",
    "--parsers",
    "--connect-timeout",
    "--peer-timeout",
    "--http",
];
const NEUTRAL: &[&str] = &[
    "--resume",
    "--follow",
    "--until-end",
    "--report-latency",
    "--progress",
    "--quiet",
    "--help",
];

/// The arguments that decide the results, as `flag value` pairs in sorted order: inputs are left
/// out (their contents are fingerprinted instead), so are the [`NEUTRAL`] flags and the flags
/// with a value in `also_neutral`.
pub fn result_arguments(args: &[String], inputs: &[String], also_neutral: &[&str]) -> String {
    let mut pairs: Vec<String> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if inputs.contains(arg) || !arg.starts_with('-') || arg == "-" {
            continue;
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f, Some(v.to_owned())),
            None => (arg.as_str(), None),
        };
        if NEUTRAL.contains(&flag) {
            continue;
        }
        let value = inline.or_else(|| {
            let next = args.get(i)?;
            if next.starts_with('-') && next.parse::<f64>().is_err() || inputs.contains(next) {
                return None;
            }
            i += 1;
            Some(next.clone())
        });
        if NEUTRAL_WITH_VALUE.contains(&flag) || also_neutral.contains(&flag) {
            continue;
        }
        pairs.push(match value {
            Some(v) => format!("{flag} {v}"),
            None => flag.to_owned(),
        });
    }
    pairs.sort();
    pairs.join(" ")
}

/// Which build of uba writes: its version and a hash of its executable, so that a resume after
/// an upgrade (or any rebuild that changed the code) never mixes the results of two builds.
pub fn build() -> String {
    use std::hash::Hasher;
    let mut hasher = std::hash::DefaultHasher::new();
    match std::fs::read("/proc/self/exe").or_else(|_| std::fs::read(std::env::current_exe()?)) {
        Ok(bytes) => hasher.write(&bytes),
        Err(_) => hasher.write(b"unknown"),
    }
    format!(
        "uba {} build {:016x}",
        env!("CARGO_PKG_VERSION"),
        hasher.finish()
    )
}

#[cfg(test)]
mod tests {
    use super::result_arguments;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn the_result_arguments_ignore_order_inputs_and_where_results_go() {
        let inputs = args("data/a.csv");
        let a = result_arguments(
            &args("data/a.csv --window 1h -w 4 --top 5 --exclude-static --sink sqlite:x.db"),
            &inputs,
            &[],
        );
        let b = result_arguments(
            &args("--top 5 --exclude-static data/a.csv --window 1h --format csv --resume"),
            &inputs,
            &[],
        );
        assert_eq!(a, "--exclude-static --top 5 --window 1h");
        assert_eq!(a, b);
        assert_ne!(
            a,
            result_arguments(&args("--top 3 --window 1h"), &inputs, &[])
        );
    }
}
