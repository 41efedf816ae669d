//! The capabilities of operators that hold their input until the frontier passes it (sketches,
//! windows in a map, keyed processes, tables every worker holds): each keeps one capability, the
//! earliest it was handed, and moves it forward itself as it emits. (timely keeps its own
//! capability machinery in `dataflow/operators/capability.rs`; these are the two moves ours share.)

use timely::dataflow::operators::Capability;

/// Keeps `cap` if it is earlier than the capability `held` (or none is held).
pub fn hold_earliest(held: &mut Option<Capability<u64>>, cap: Capability<u64>) {
    if held.as_ref().is_none_or(|h| h.time() > cap.time()) {
        *held = Some(cap);
    }
}

/// Moves the capability [`hold_earliest`] kept to `next`, the earliest time the operator may
/// still emit at, or gives it up when there is none.
pub fn hold_next(held: &mut Option<Capability<u64>>, next: Option<u64>) {
    match (held.as_mut(), next) {
        (Some(cap), Some(next)) => cap.downgrade(&next),
        _ => *held = None,
    }
}
