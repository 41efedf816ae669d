//! How a run ends when it does not end well: one sentence, a documented exit code, and no output
//! file that looks complete when it is not.
//!
//! Exit codes (`docs/cli.md`, "When things go wrong", lists them for users):
//! - 0: the run ended well (also when a reader of stdout, such as `head`, stopped reading);
//! - 1: the run failed while it ran: an input could not be read, an output could not be written;
//! - 2: the command was wrong: a flag, a value, a file that cannot be opened;
//! - 3: a process of the cluster was lost (killed, its machine gone, the network cut);
//! - 4: an input had lines, but not one of them was accepted: probably the wrong file for the job;
//! - 130: stopped by Ctrl-C, in this process or another of the cluster (the pending windows were
//!   written as if the input had ended; a table was not marked complete); a second Ctrl-C exits
//!   at once;
//! - 143: stopped by SIGTERM (a service manager's stop), as by Ctrl-C.
//!
//! Output files are *staged*: written under `FILE.partial` beside their destination and renamed
//! into place only by [`commit_outputs`], when the run ended well. A failed run leaves the
//! previous `FILE` (if any) untouched and says where its partial results are.

use std::fs::File;
use std::path::PathBuf;
use std::sync::Mutex;

/// The run ended well.
pub const OK: i32 = 0;
/// The run failed while it ran.
pub const FAILED: i32 = 1;
/// The command line (a flag, a value, a file) was wrong.
pub const USAGE: i32 = 2;
/// A process of the cluster was lost.
pub const PEER_LOST: i32 = 3;
/// An input had lines but none was accepted.
pub const NOTHING_ACCEPTED: i32 = 4;
/// The run was stopped by Ctrl-C (in any process of a cluster): 128 + SIGINT.
pub const INTERRUPTED: i32 = 130;
/// The run was stopped by SIGTERM (in any process of a cluster), as by Ctrl-C: 128 + SIGTERM.
pub const TERMINATED: i32 = 143;

/// Why a run did not end well, and the exit code that says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: i32,
    pub message: String,
    /// For [`NOTHING_ACCEPTED`]: the record type the rejected lines look like, if any, so that
    /// the command line can name the job that reads them.
    pub looks_like: Option<&'static str>,
}

impl Failure {
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
            looks_like: None,
        }
    }
}

/// A plain message is a usage error: every check before a run starts says what to change.
impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure::new(USAGE, message)
    }
}

impl From<&str> for Failure {
    fn from(message: &str) -> Self {
        Failure::new(USAGE, message)
    }
}

/// Output files being written, `(partial, final)`.
static STAGED: Mutex<Vec<(PathBuf, PathBuf)>> = Mutex::new(Vec::new());

/// Creates the file that will become `path` when the run ends well: `path.partial` for now.
/// What is not a regular file (`/dev/stdout`, `/dev/full`, a named pipe) is written directly:
/// it cannot be replaced by a rename, and a reader may be waiting on it.
pub fn create_staged(path: &str) -> std::io::Result<File> {
    let target = PathBuf::from(path);
    if std::fs::metadata(&target).is_ok_and(|m| !m.is_file()) {
        return File::create(&target);
    }
    let mut partial = target.clone().into_os_string();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let file = File::create(&partial)?;
    STAGED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((partial, target));
    Ok(file)
}

/// The run ended well: every staged file takes its final name.
pub fn commit_outputs() -> Result<(), Failure> {
    let staged = std::mem::take(&mut *STAGED.lock().unwrap_or_else(|e| e.into_inner()));
    for (partial, target) in staged {
        std::fs::rename(&partial, &target).map_err(|e| {
            Failure::new(
                FAILED,
                format!(
                    "cannot move {} into place as {}: {e}",
                    partial.display(),
                    target.display()
                ),
            )
        })?;
    }
    Ok(())
}

/// The run failed: says, for each staged file, that its destination was not written and where
/// the partial results are. The destinations are left as they were.
pub fn abandon_outputs() {
    let staged = std::mem::take(&mut *STAGED.lock().unwrap_or_else(|e| e.into_inner()));
    for (partial, target) in staged {
        crate::engine::status::progress::stderr_line(&format!(
            "uba: {} was not written; the results written before the failure are in {}",
            target.display(),
            partial.display()
        ));
    }
}

/// Ends the process with one sentence (exit code 1), leaving no output file that looks
/// complete, and no progress row in a table for results that were not written.
pub fn fail(message: &str) -> ! {
    exit(&Failure::new(FAILED, message))
}

/// A thread is ending the process ([`exit`]).
static EXITING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Ends the process after a failure: the sentence, the staged outputs abandoned, the code.
pub fn exit(failure: &Failure) -> ! {
    if EXITING.swap(true, std::sync::atomic::Ordering::SeqCst) {
        // Another thread is ending the process (and may be letting `/healthz` say why):
        // this one waits for the end rather than racing it with another sentence.
        loop {
            std::thread::park();
        }
    }
    crate::engine::status::health::failing(&failure.message);
    crate::engine::status::progress::finish();
    crate::engine::status::progress::stderr_line(&format!("uba: {}", failure.message));
    abandon_outputs();
    std::process::exit(failure.code)
}

/// Turns timely's report of a lost connection into one sentence and exit code [`PEER_LOST`].
///
/// Timely's network threads (named `timely:recv-N` / `timely:send-N`, N the remote process)
/// panic with a message that starts with "timely communication error:" when a connection fails
/// (timely documents the prefix as stable, for this use); the workers then panic on the poisoned
/// queues, and the process would end with a backtrace. The hook runs before any unwinding, on
/// the network thread, so the first report wins and the process ends (at once, or with `--http`
/// once `/healthz` has said why: [`super::health`]). Every other panic is a bug and keeps Rust's
/// report.
pub fn report_lost_peers(this_process: usize) {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if EXITING.load(std::sync::atomic::Ordering::SeqCst) {
            // The process is ending with its sentence (after `--http`'s grace): the workers'
            // panics on the lost connection's queues are part of that, not news.
            loop {
                std::thread::park();
            }
        }
        if let Some(cause) = message.strip_prefix("timely communication error: ") {
            // Every process knew of a stop and is ending with it: a peer that exited first
            // is that, not a lost process.
            if let Some(stop) = crate::engine::status::stop::stopped() {
                exit(&Failure::new(stop.code, stop.reason));
            }
            let thread = std::thread::current();
            let peer = thread
                .name()
                .and_then(|n| n.rsplit('-').next())
                .filter(|n| n.parse::<usize>().is_ok())
                .map(|n| format!("process {n}"))
                .unwrap_or_else(|| "another process".into());
            exit(&Failure::new(
                PEER_LOST,
                format!(
                    "process {this_process} lost its connection to {peer} ({cause}): that process \
                     ended or its machine cannot be reached; stopping this one too"
                ),
            ));
        }
        default(info)
    }));
}
