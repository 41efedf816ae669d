//! One module per job, each reading top to bottom as the dataflow it builds, and the registry
//! that makes them subcommands.
//!
//! A job module has an `Args` (its flags, with the job's help as the struct's doc comment: the
//! first line for `uba --help`, the rest for `uba JOB --help`) and `run(Args)`. Adding a job is
//! writing its module and adding one line to [`declare_jobs!`] below.

/// Declares the job modules and the [`Job`] subcommand that runs them: one line per job,
/// `Variant => module`, in the order `uba --help` lists them. The subcommand's name is the
/// variant's in kebab case (`HotItems` is `uba hot-items`). Modelled on Feldera's
/// `declare_queries!` (nexmark).
macro_rules! declare_jobs {
    ($($variant:ident => $module:ident,)*) => {
        $(pub mod $module;)*

        /// Every job, as a subcommand of `uba`. Help is printed by the job's own `--help` flag
        /// (in [`crate::engine::options::ClusterArgs`]), so clap's is disabled.
        #[derive(clap::Subcommand, Debug)]
        pub enum Job {
            $(
                #[command(disable_help_flag = true, args_override_self = true)]
                $variant($module::Args),
            )*
        }

        /// The jobs that read lines of the input format `record` (a [`Record::NAME`]).
        ///
        /// [`Record::NAME`]: crate::engine::records::Record::NAME
        pub fn jobs_reading(record: &str) -> Vec<String> {
            let mut jobs = Vec::new();
            $(
                if $module::READS.contains(&record) {
                    jobs.push(stringify!($module).replace('_', "-"));
                }
            )*
            jobs
        }

        impl Job {
            /// Runs the job to the end of its inputs.
            pub fn run(self) -> Result<(), crate::engine::failure::Failure> {
                match self {
                    $(Job::$variant(args) => $module::run(args),)*
                }
            }
        }
    };
}

declare_jobs! {
    HotItems => hot_items,
    HotPages => hot_pages,
    Pv => pv,
    Uv => uv,
    AppMarketing => app_marketing,
    AdStats => ad_stats,
    LoginFail => login_fail,
    OrderTimeout => order_timeout,
    TxMatch => tx_match,
    Funnel => funnel,
    UserProfile => user_profile,
    Recommend => recommend,
    Parse => parse,
}

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
pub fn input_or_sample(
    input: &Option<String>,
    cluster: &crate::engine::options::ClusterArgs,
) -> Result<String, String> {
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
