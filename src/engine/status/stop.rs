//! The stop flag: set by the first Ctrl-C, read by the readers (which then end their inputs, so
//! pending windows fire and the summary is written) and by the database sink (which then never
//! marks a table complete). A second Ctrl-C exits at once with 130. Beside it, the flag that
//! withholds results from a table when the run will fail although its dataflow ends.

use std::sync::atomic::{AtomicBool, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);
static WITHHELD: AtomicBool = AtomicBool::new(false);

/// Whether a stop was asked for (Ctrl-C).
pub fn requested() -> bool {
    STOP.load(Ordering::Relaxed)
}

/// Results from now on are no answer to commit: the run will end with an error although its
/// dataflow ends normally (every input line was rejected: the wrong file, probably).
pub fn withhold_results() {
    WITHHELD.store(true, Ordering::Relaxed);
}

/// Whether results may no longer be committed to a table: after Ctrl-C the pending windows fire
/// as if the input had ended, which is not the answer a resumed run would give, and after
/// [`withhold_results`] they are no answer at all.
pub fn results_withheld() -> bool {
    requested() || WITHHELD.load(Ordering::Relaxed)
}

/// The first Ctrl-C ends the inputs (windows fire, the summary is written); a second one exits.
pub fn install_ctrl_c() {
    let _ = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::Relaxed) {
            std::process::exit(130);
        }
    });
}
