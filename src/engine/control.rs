//! The control plane of a run: what its workers tell one another besides data, on a small
//! dataflow of its own beside the job's, broadcast to every worker of every process.
//!
//! - Before the job starts, each process announces the fingerprint of the inputs it reads, so
//!   that the process that writes a table checks every process's inputs for `--resume`, not only
//!   its own (control time 0).
//! - A resumed table's worker announces where every process's inputs resume (control time 0);
//!   while the job runs, the processes that read inputs of their own tell it their inputs'
//!   checkpoints, which its commits record.
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
    /// From the worker that writes a resumed table: where every input resumes (control time 0).
    Resume { checkpoints: String },
    /// A checkpoint of an input that a process other than the table's reads (its reader's
    /// state after a batch; see `status::checkpoints`), for the table's commits.
    Checkpoint {
        key: String,
        max_ts: Option<u64>,
        line: u64,
        state: String,
    },
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
    /// The first stop heard (every process may announce its own; one is enough).
    stop: Option<Stopped>,
    /// This worker writes the table: it records the checkpoints other processes relay.
    records_checkpoints: bool,
    announced_stop: bool,
}

impl Control {
    /// Builds the control dataflow on `worker`. Every worker must build it, and before the job's
    /// dataflow, so that the dataflows line up across processes.
    pub fn new(worker: &mut Worker, records_checkpoints: bool) -> Self {
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
            stop: None,
            records_checkpoints,
            announced_stop: false,
        }
    }

    /// Announces this process's input fingerprint (from the one worker that reads its inputs;
    /// `None` from the others), then waits for every worker's: returns each announcing process's
    /// fingerprint, in process order.
    /// The worker that writes a resumed table also announces where the inputs resume
    /// (`resume`); every worker takes note of it (`status::checkpoints::set_resumed`).
    pub fn agree_on_inputs(
        &mut self,
        worker: &mut Worker,
        process: usize,
        fingerprint: Option<String>,
        resume: Option<String>,
    ) -> Vec<(usize, String)> {
        let input = self.input.as_mut().expect("an open control input");
        if let Some(fingerprint) = fingerprint {
            input.send(Message::Inputs {
                process,
                fingerprint,
            });
        }
        if let Some(checkpoints) = resume {
            input.send(Message::Resume { checkpoints });
        }
        input.advance_to(RUN);
        while self.probe.less_than(&RUN) {
            worker.step_or_park(None);
        }
        let mut inputs: Vec<(usize, String)> = Vec::new();
        for message in self.heard.borrow_mut().drain(..) {
            match message {
                Message::Inputs {
                    process,
                    fingerprint,
                } => inputs.push((process, fingerprint)),
                Message::Resume { checkpoints } => {
                    // Checked where it was read (the table's progress row).
                    let _ = crate::engine::status::checkpoints::set_resumed(&checkpoints);
                }
                Message::Stop { code, reason } => {
                    // Every process may announce its own stop: the first heard is the one.
                    self.stop.get_or_insert(Stopped { code, reason });
                }
                Message::Checkpoint { .. } => {}
            }
        }
        inputs.sort();
        inputs
    }

    /// Tells the worker that writes the table the checkpoints this process's readers took since
    /// the last call (`status::checkpoints::outbox`).
    pub fn relay_checkpoints(&mut self) {
        let Some(input) = self.input.as_mut() else {
            return;
        };
        let outbox = crate::engine::status::checkpoints::outbox();
        if outbox.is_empty() {
            return;
        }
        for (key, max_ts, line, state) in outbox {
            input.send(Message::Checkpoint {
                key,
                max_ts,
                line,
                state,
            });
        }
        input.flush();
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
        // What was heard is taken out: checkpoints go to the table's worker's record (the other
        // workers drop theirs), a stop is kept.
        for message in self.heard.borrow_mut().drain(..) {
            match message {
                Message::Checkpoint {
                    key,
                    max_ts,
                    line,
                    state,
                } if self.records_checkpoints => {
                    crate::engine::status::checkpoints::record(&key, max_ts, line, state)
                }
                Message::Stop { code, reason } => {
                    // Every process may announce its own stop: the first heard is the one.
                    self.stop.get_or_insert(Stopped { code, reason });
                }
                _ => {}
            }
        }
        let stop = self.stop.clone()?;
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
