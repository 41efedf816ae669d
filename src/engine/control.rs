//! The control plane of a run: what its workers tell one another besides data, on a small
//! dataflow of its own beside the job's, broadcast to every worker of every process.
//!
//! - Before the job starts, each process announces the fingerprint of the inputs it reads, so
//!   that the process that writes a table checks every process's inputs for `--resume`, not only
//!   its own (control time 0).
//! - While it runs, a process that is stopped (Ctrl-C) or fails announces why (control time 1).
//!   Every worker that hears it withholds its results and acknowledges by moving its control
//!   input on; only when every worker has acknowledged do the inputs end (Ctrl-C) or the
//!   processes exit (a failure). No process can therefore commit a time after a stop that
//!   started in another, and every process ends with the same sentence and exit code.
//!
//! Timely's progress tracking is the acknowledgement: the control probe passes a time once every
//! worker has moved its control input past it.

use std::cell::RefCell;
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use timely::dataflow::ProbeHandle;
use timely::dataflow::operators::probe::Probe;
use timely::dataflow::operators::vec::{Broadcast, Input};
use timely::dataflow::operators::{Inspect, vec::input::Handle};
use timely::worker::Worker;

use crate::engine::status::stop::{self, Stopped};

/// What a worker tells every other.
#[derive(Clone, Debug, Serialize, Deserialize)]
enum Message {
    /// The fingerprint of the inputs a process reads.
    Inputs { process: usize, fingerprint: String },
    /// A process stopped: the exit code every process ends with, and the sentence.
    Stop { code: i32, reason: String },
}

/// Control time 0: the inputs are announced; 1: the run; 2: a stop is acknowledged.
const RUN: u64 = 1;
const ACKNOWLEDGED: u64 = 2;

/// One worker's end of the control plane.
pub struct Control {
    input: Option<Handle<u64, Message>>,
    probe: ProbeHandle<u64>,
    heard: Rc<RefCell<Vec<Message>>>,
    announced_stop: bool,
}

impl Control {
    /// Builds the control dataflow on `worker`. Every worker must build it, and before the job's
    /// dataflow, so that the dataflows line up across processes.
    pub fn new(worker: &mut Worker) -> Self {
        let heard = Rc::new(RefCell::new(Vec::new()));
        let sink = heard.clone();
        let (input, probe) = worker.dataflow::<u64, _, _>(|scope| {
            let (input, stream) = scope.new_input::<Message>();
            let (probe, _) = stream
                .broadcast()
                .inspect(move |m: &Message| sink.borrow_mut().push(m.clone()))
                .probe();
            (input, probe)
        });
        Control {
            input: Some(input),
            probe,
            heard,
            announced_stop: false,
        }
    }

    /// Announces this process's input fingerprint (from the one worker that reads its inputs;
    /// `None` from the others), then waits for every worker's: returns each announcing process's
    /// fingerprint, in process order.
    pub fn agree_on_inputs(
        &mut self,
        worker: &mut Worker,
        process: usize,
        fingerprint: Option<String>,
    ) -> Vec<(usize, String)> {
        let input = self.input.as_mut().expect("an open control input");
        if let Some(fingerprint) = fingerprint {
            input.send(Message::Inputs {
                process,
                fingerprint,
            });
        }
        input.advance_to(RUN);
        while self.probe.less_than(&RUN) {
            worker.step_or_park(None);
        }
        let mut inputs: Vec<(usize, String)> = self
            .heard
            .borrow()
            .iter()
            .filter_map(|m| match m {
                Message::Inputs {
                    process,
                    fingerprint,
                } => Some((*process, fingerprint.clone())),
                Message::Stop { .. } => None,
            })
            .collect();
        inputs.sort();
        inputs
    }

    /// Tells every worker that the run stops, and why (once per worker). This process withholds
    /// its results at once, before the others have heard.
    pub fn announce_stop(&mut self, stop: Stopped) {
        if std::mem::replace(&mut self.announced_stop, true) {
            return;
        }
        stop::stopped_because(stop.clone());
        if let Some(input) = self.input.as_mut() {
            input.send(Message::Stop {
                code: stop.code,
                reason: stop.reason,
            });
            input.flush();
        }
    }

    /// Takes note of what was heard: a stop withholds this process's results and is acknowledged.
    /// Returns the stop once every worker has acknowledged it, which is when the inputs may end.
    pub fn attend(&mut self) -> Option<Stopped> {
        let stop = self.heard.borrow().iter().find_map(|m| match m {
            Message::Stop { code, reason } => Some(Stopped {
                code: *code,
                reason: reason.clone(),
            }),
            Message::Inputs { .. } => None,
        })?;
        stop::stopped_because(stop);
        if let Some(input) = self.input.as_mut()
            && *input.time() < ACKNOWLEDGED
        {
            input.advance_to(ACKNOWLEDGED);
            input.flush();
        }
        (!self.probe.less_than(&ACKNOWLEDGED)).then(|| stop::stopped().expect("a recorded stop"))
    }

    /// This worker's part is over (its inputs ended): it will announce and acknowledge nothing
    /// more, and holds no worker back.
    pub fn close(&mut self) {
        self.input = None;
    }
}
