//! Where a job's input comes from when the command line names it, or leaves it out.

use crate::engine::options::ClusterArgs;

/// The input of a job that needs one: INPUT, or a name never opened when `--inputs` names this
/// process's files instead (clap requires one of the two, not both).
pub fn named_input(input: &Option<String>) -> String {
    input.clone().unwrap_or_else(|| "--inputs".into())
}

/// Where a job with no INPUT looks for its sample: the working directory, so that a clone
/// (`cargo run`) finds it and an installed `uba` behaves the same wherever it runs from.
pub const SAMPLE: &str = "data/user-behavior.csv";

/// The command that writes [`SAMPLE`], byte for byte (the generator is deterministic).
pub const SAMPLE_COMMAND: &str =
    "mkdir -p data && uba gen user-behavior --rows 100000 --seed 1 --out data/user-behavior.csv";

/// The input of a job whose INPUT may be left out: INPUT, else the sample in the working
/// directory. The sample is not compiled in (3.4 MB for a demo) nor looked for where the binary
/// was built (an installed binary has no build directory): without it, the error says how to
/// write it. Only the process that reads the inputs needs it (process 0, without `--inputs`).
pub fn input_or_sample(input: &Option<String>, cluster: &ClusterArgs) -> Result<String, String> {
    match input {
        Some(_) if cluster.inputs.is_some() => {
            Err("give either INPUT or --inputs, not both: --inputs replaces INPUT".into())
        }
        Some(path) => Ok(path.clone()),
        None if cluster.inputs.is_some() || cluster.process != 0 => Ok(SAMPLE.into()),
        None if std::path::Path::new(SAMPLE).is_file() => Ok(SAMPLE.into()),
        None => Err(format!(
            "no input given, and no sample {SAMPLE} in this directory: name an input file \
             (or - for stdin), or write the sample with `{SAMPLE_COMMAND}`"
        )),
    }
}
