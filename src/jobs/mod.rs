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
        /// [`Record::NAME`]: crate::engine::input::records::Record::NAME
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
            pub fn run(self) -> Result<(), crate::engine::status::failure::Failure> {
                match self {
                    $(Job::$variant(args) => $module::run(args),)*
                }
            }
        }
    };
}

pub mod inputs;

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
