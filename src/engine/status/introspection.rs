//! Each worker's busy and idle time, and the updates its arrangements hold, from timely's and
//! differential's own logs (as Materialize builds its introspection), into [`super::metrics`].
//!
//! Registered only with `--http`: logging costs the workers the events they record (one per
//! operator activation); `docs/benchmarks.md` measures the whole of `--http`.

use std::time::Duration;

use differential_dataflow::logging::{DifferentialEvent, DifferentialEventBuilder};
use timely::logging::{StartStop, TimelyEvent, TimelyEventBuilder};
use timely::worker::Worker;

/// Registers the loggers on `worker`, before its dataflow is built (an arrangement finds its
/// logger when it is made).
pub fn register(worker: &mut Worker) {
    let handles = super::metrics::worker(worker.index());
    let Some(mut register) = worker.log_register() else {
        return;
    };
    // Busy: from an outermost operator's start to its stop (operators nest inside their
    // dataflow's subgraph, which is scheduled too); idle: between two of them.
    let mut depth = 0usize;
    let mut since: Option<Duration> = None;
    let busy = handles.busy;
    let idle = handles.idle;
    register.insert::<TimelyEventBuilder, _>("timely", move |_time, events| {
        let Some(events) = events else { return };
        for (at, event) in events.iter() {
            let TimelyEvent::Schedule(schedule) = event else {
                continue;
            };
            match schedule.start_stop {
                StartStop::Start => {
                    if depth == 0 {
                        if let Some(since) = since {
                            idle.inc_by(at.saturating_sub(since).as_secs_f64());
                        }
                        since = Some(*at);
                    }
                    depth += 1;
                }
                StartStop::Stop => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        if let Some(started) = since {
                            busy.inc_by(at.saturating_sub(started).as_secs_f64());
                        }
                        since = Some(*at);
                    }
                }
            }
        }
    });
    let arranged = handles.arranged;
    register.insert::<DifferentialEventBuilder, _>("differential/arrange", move |_time, events| {
        let Some(events) = events else { return };
        for (_, event) in events.iter() {
            let change = match event {
                DifferentialEvent::Batch(b) => b.length as i64,
                DifferentialEvent::Merge(m) => m
                    .complete
                    .map_or(0, |n| n as i64 - m.length1 as i64 - m.length2 as i64),
                DifferentialEvent::Drop(d) => -(d.length as i64),
                _ => 0,
            };
            arranged.inc_by(change);
        }
    });
}
