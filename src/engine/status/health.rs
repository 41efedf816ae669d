//! Whether the run is healthy, as `/healthz` answers (`--http`): running, with its inputs and
//! peers connected; or why not (a lost peer, a failed input or sink, a stop), one sentence.
//!
//! A failure ends the process (`failure::exit`), and a monitor that polls `/healthz`
//! would most often find only a closed port. So with `--http`, the process that fails first says
//! why here, and keeps serving until `/healthz` has answered 503 once, at most [`GRACE`]; only
//! then does it exit. Without `--http` nothing waits.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The longest a failing process keeps serving for its 503 to be seen.
pub const GRACE: Duration = Duration::from_secs(2);

static REASON: Mutex<Option<String>> = Mutex::new(None);
/// `/healthz` answered 503 since the reason was set.
static SEEN: AtomicBool = AtomicBool::new(false);
/// The server runs: a failure waits for its 503 to be seen.
static SERVED: AtomicBool = AtomicBool::new(false);

/// Why the run is not healthy, if it is not: a failure's sentence, or a stop's
/// ([`super::stop::stopped`]).
pub fn unhealthy() -> Option<String> {
    let failed = REASON.lock().unwrap_or_else(|e| e.into_inner()).clone();
    failed.or_else(|| super::stop::stopped().map(|s| s.reason))
}

/// `/healthz` told a client the run is unhealthy.
pub fn answered_unhealthy() {
    SEEN.store(true, Ordering::Relaxed);
}

/// The server is up (`--http`).
pub fn served() {
    SERVED.store(true, Ordering::Relaxed);
}

/// The run fails for `reason`: says so on `/healthz` and, when it is served, waits until a
/// client has heard it, at most [`GRACE`].
pub fn failing(reason: &str) {
    REASON
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_or_insert_with(|| reason.to_owned());
    if !SERVED.load(Ordering::Relaxed) {
        return;
    }
    let since = Instant::now();
    while !SEEN.load(Ordering::Relaxed) && since.elapsed() < GRACE {
        std::thread::sleep(Duration::from_millis(20));
    }
}
