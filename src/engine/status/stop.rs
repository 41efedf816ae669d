//! How a run stops before its inputs end: Ctrl-C, or a failure in any process of a cluster.
//!
//! A stop is known everywhere before anything ends: the process where it starts withholds its
//! results at once and tells the others (`engine::control`); each withholds its results too, and
//! only once every process knows are the inputs ended ([`end_inputs`]), so that no process
//! commits a time after the stop, whichever process it started in. A second Ctrl-C exits at once
//! with 130. Beside them, the flag that withholds results when a run will fail although its
//! dataflow ends (every line of an input rejected).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

static CTRL_C: AtomicBool = AtomicBool::new(false);
static SIGTERM: AtomicBool = AtomicBool::new(false);
static END_INPUTS: AtomicBool = AtomicBool::new(false);
static WITHHELD: AtomicBool = AtomicBool::new(false);
static REASON: Mutex<Option<Stopped>> = Mutex::new(None);

/// Why a run stopped early, as every process of it reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stopped {
    /// The exit code: 130 for Ctrl-C, 1 for a failure.
    pub code: i32,
    /// One sentence, the same in every process.
    pub reason: String,
}

/// Whether this process was asked to stop by Ctrl-C (and has yet to tell the others).
pub fn ctrl_c() -> bool {
    CTRL_C.load(Ordering::Relaxed)
}

/// Whether this process was asked to stop by SIGTERM (a service manager's stop), which ends the
/// run as Ctrl-C does.
pub fn sigterm() -> bool {
    SIGTERM.load(Ordering::Relaxed)
}

/// Records why the run stops (the first reason wins) and withholds its results from now on.
pub fn stopped_because(stop: Stopped) {
    withhold_results();
    let mut reason = REASON.lock().unwrap_or_else(|e| e.into_inner());
    reason.get_or_insert(stop);
}

/// Why the run stopped early, if it did.
pub fn stopped() -> Option<Stopped> {
    REASON.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Every process knows of the stop: the readers end their inputs, the pending windows fire.
pub fn end_inputs() {
    END_INPUTS.store(true, Ordering::Relaxed);
}

/// Whether the inputs are to end now (readers stop reading, workers close their inputs).
pub fn inputs_ended() -> bool {
    END_INPUTS.load(Ordering::Relaxed)
}

/// Results from now on are no answer to commit: the run will end with an error although its
/// dataflow ends normally (every input line was rejected: the wrong file, probably).
pub fn withhold_results() {
    WITHHELD.store(true, Ordering::Relaxed);
}

/// Whether results may no longer be committed to a table: after a stop the pending windows fire
/// as if the input had ended, which is not the answer a resumed run would give, and after
/// [`withhold_results`] they are no answer at all.
pub fn results_withheld() -> bool {
    // A SIGTERM withholds at once, as Ctrl-C's handler does (signal-hook's handler only sets
    // its flag).
    WITHHELD.load(Ordering::Relaxed) || SIGTERM.load(Ordering::Relaxed)
}

/// The first Ctrl-C or SIGTERM stops the run (its results withheld at once); a second one exits
/// (130, 143).
pub fn install_ctrl_c() {
    let _ = ctrlc::set_handler(|| {
        WITHHELD.store(true, Ordering::Relaxed);
        if CTRL_C.swap(true, Ordering::Relaxed) {
            std::process::exit(130);
        }
    });
    // SIGTERM: the first sets the flag, a second (the flag set) exits at once, as Ctrl-C does.
    use signal_hook::consts::SIGTERM as TERM;
    let _ = signal_hook::flag::register_conditional_shutdown(TERM, 143, &SIGTERM);
    let _ = signal_hook::flag::register(TERM, &SIGTERM);
}
