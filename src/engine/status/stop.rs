//! The stop flag: set by the first Ctrl-C, read by the readers (which then end their inputs, so
//! pending windows fire and the summary is written) and by the database sink (which then never
//! marks a table complete). A second Ctrl-C exits at once with 130.

use std::sync::atomic::{AtomicBool, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);

/// Whether a stop was asked for (Ctrl-C).
pub fn requested() -> bool {
    STOP.load(Ordering::Relaxed)
}

/// The first Ctrl-C ends the inputs (windows fire, the summary is written); a second one exits.
pub fn install_ctrl_c() {
    let _ = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::Relaxed) {
            std::process::exit(130);
        }
    });
}
