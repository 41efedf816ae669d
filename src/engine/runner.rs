//! Running a job: timely's workers and processes, the inputs, the output, the summary.
//!
//! A job module only builds its dataflow and says how each input feeds it; everything a user
//! expects from every job (opening files with clear errors, one output in a cluster, Ctrl-C, the
//! accounting line) happens here once.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use differential_dataflow::ExchangeData;
use differential_dataflow::input::InputSession;
use timely::communication::Config as CommunicationConfig;
use timely::dataflow::ProbeHandle;
use timely::worker::Worker;

use crate::engine::control::Control;
use crate::engine::input::follow::Followed;
use crate::engine::input::kafka;
use crate::engine::input::records::Record;
use crate::engine::input::side::SideOutputs;
use crate::engine::input::source::{self, Origin, Pump, Source, TimePolicy};
use crate::engine::options::{ClusterArgs, OutputArgs};
use crate::engine::output::table::Table;
use crate::engine::output::{self, Output};
use crate::engine::peers;
use crate::engine::status::failure::{self, Failure};
use crate::engine::status::invocation;
use crate::engine::status::progress;
use crate::engine::status::stop::{self, Stopped};

/// What every worker of a run shares.
struct Shared {
    /// Per input of the job, the files this process reads (empty on processes that read nothing).
    sources: Mutex<Vec<Vec<Source>>>,
    output: Mutex<Option<Output>>,
    sides: Arc<SideOutputs>,
    max_time_jump: Option<u64>,
    replay_rate: Option<u64>,
    max_line_bytes: usize,
    /// Threads that parse each input file.
    parsers: usize,
    started: Instant,
    /// This process's index, and how many the cluster has.
    process: usize,
    processes: usize,
}

impl Shared {
    /// A sentence about `process` as every process of a cluster prints it: naming that process
    /// (on one process, as it is).
    fn about(&self, process: usize, sentence: &str) -> String {
        if self.processes > 1 {
            format!("process {process}: {sentence}")
        } else {
            sentence.to_owned()
        }
    }
}

/// One worker's view of the run: where its inputs come from and where its output goes. Handed to
/// a job while it builds its dataflow on that worker.
pub struct Context {
    shared: Arc<Shared>,
    /// Whether this worker writes the output (global worker 0).
    writes: bool,
    /// Whether this worker reads this process's inputs.
    reads: bool,
    feeds: Vec<Box<dyn Pump>>,
    /// How far back in event time the job's state reaches (`status::checkpoints`): `None` once
    /// an input has no bound (a pattern job that declared none), else the largest bound of the
    /// inputs' windows and of what the job declared.
    horizon: Option<u64>,
    /// The job declared its horizon ([`Context::state_reaches_back`]).
    declared: bool,
}

impl Context {
    /// The output, on the worker that writes it (global worker 0); `None` elsewhere.
    pub fn output(&mut self) -> Option<Output> {
        if self.writes {
            self.shared.output.lock().expect("output lock").take()
        } else {
            None
        }
    }

    /// Feeds input number `input` into `session`: records of type `R`, those for which `keep`
    /// holds, each placed by `place(record, time)` (see [`source::spawn_reader`]). On workers
    /// that do not read, the session is closed at once.
    pub fn feed<R, D, K, P>(
        &mut self,
        input: usize,
        session: InputSession<u64, D, isize>,
        out_of_orderness: u64,
        lateness: crate::engine::input::event_time::Lateness,
        keep: K,
        mut place: P,
    ) where
        R: Record,
        D: ExchangeData,
        K: Fn(&R) -> bool + Clone + Send + 'static,
        P: FnMut(R, u64) -> (D, u64) + Clone + Send + 'static,
    {
        self.feed_placed(
            input,
            session,
            (out_of_orderness, lateness),
            keep,
            move |r, t, _| place(r, t),
            true,
        );
    }

    /// Declares that the job's state reaches `span` back in event time behind the logical time
    /// of its results (a state machine's retention, a day's blacklist): a resumed run replays
    /// what lies within it, no more. A windowed input's span (its windows and their allowed
    /// lateness) is known without it; a job whose input is not windowed and which declares
    /// nothing is resumed from the start of its inputs.
    pub fn state_reaches_back(&mut self, span: u64) {
        self.horizon = Some(self.horizon.unwrap_or(0).max(span));
        self.declared = true;
    }

    /// [`Context::feed`] for jobs that order events of equal times by input order: `place` also gets
    /// the record's [`Origin`] (its file among the input's files, and its line number), which the
    /// record it places carries: no two are equal, so a batch is sent as it was read, not sorted
    /// to add up equal ones (see `TimePolicy::consolidate`).
    pub fn feed_with_origin<R, D, K, P>(
        &mut self,
        input: usize,
        session: InputSession<u64, D, isize>,
        out_of_orderness: u64,
        lateness: crate::engine::input::event_time::Lateness,
        keep: K,
        place: P,
    ) where
        R: Record,
        D: ExchangeData,
        K: Fn(&R) -> bool + Clone + Send + 'static,
        P: FnMut(R, u64, Origin) -> (D, u64) + Clone + Send + 'static,
    {
        self.feed_placed(
            input,
            session,
            (out_of_orderness, lateness),
            keep,
            place,
            false,
        );
    }

    fn feed_placed<R, D, K, P>(
        &mut self,
        input: usize,
        session: InputSession<u64, D, isize>,
        (out_of_orderness, lateness): (u64, crate::engine::input::event_time::Lateness),
        keep: K,
        place: P,
        consolidate: bool,
    ) where
        R: Record,
        D: ExchangeData,
        K: Fn(&R) -> bool + Clone + Send + 'static,
        P: FnMut(R, u64, Origin) -> (D, u64) + Clone + Send + 'static,
    {
        self.horizon = match lateness {
            crate::engine::input::event_time::Lateness::Windowed(w) => {
                self.horizon.map(|h| h.max(w.size + w.slide + w.lateness))
            }
            crate::engine::input::event_time::Lateness::Strict if !self.declared => None,
            crate::engine::input::event_time::Lateness::Strict => self.horizon,
        };
        let sources = if self.reads {
            std::mem::take(&mut self.shared.sources.lock().expect("sources lock")[input])
        } else {
            Vec::new()
        };
        if sources.is_empty() {
            return; // dropping the session closes it
        }
        let policy = TimePolicy {
            out_of_orderness,
            lateness,
            max_time_jump: self.shared.max_time_jump,
            replay_rate: self.shared.replay_rate,
            max_line_bytes: self.shared.max_line_bytes,
            parsers: self.shared.parsers,
            consolidate,
        };
        let process = self.shared.process;
        let readings = sources
            .into_iter()
            .enumerate()
            .map(|(file, mut source)| {
                let (file, key, from) = resumed_checkpoint(process, input, file, &source);
                if let Some(from) = &from {
                    resume_at(from, &mut source);
                }
                source::spawn_reader(
                    source,
                    file,
                    policy,
                    self.shared.sides.clone(),
                    keep.clone(),
                    place.clone(),
                    source::Resume { key, from },
                )
            })
            .collect();
        self.feeds
            .push(Box::new(source::Feed::new(readings, session)));
    }

    /// Moves the inputs into the dataflow until they end, then lets every pending window fire.
    /// A stop anywhere (Ctrl-C, a reader's error, in any process) is announced on the control
    /// plane and acted on once every worker knows of it: Ctrl-C ends the inputs, a failure ends
    /// the process ([`failure::exit`]) with the same sentence everywhere. Returns that an input
    /// accepted nothing, if one did.
    fn drive(
        &mut self,
        worker: &mut Worker,
        probe: &ProbeHandle<u64>,
        control: &mut Control,
    ) -> Result<(), Failure> {
        loop {
            self.attend(control);
            // The input furthest behind goes first, so that no input runs far ahead of another.
            let Some(feed) = self
                .feeds
                .iter_mut()
                .filter(|f| !f.done())
                .min_by_key(|f| f.frontier())
            else {
                break;
            };
            let moved = feed.pump(probe);
            if let Some(error) = feed.error().map(String::from) {
                // A failed read is no end of input: closing the input would fire every pending
                // window and commit it, and the table would be marked complete with what was
                // read so far. The run stops instead, as a killed one does: the outputs are
                // abandoned, a table keeps its last commit, and `--resume` goes on from there.
                control.announce_stop(Stopped {
                    code: failure::FAILED,
                    reason: self.shared.about(self.shared.process, &error),
                });
            }
            if moved {
                let watermark = self.feeds.iter().map(|f| f.frontier()).min();
                crate::engine::status::progress::watermark(watermark.unwrap_or(u64::MAX));
                control.relay_checkpoints();
            }
            worker.step_or_park(if moved {
                Some(Duration::ZERO)
            } else {
                Some(Duration::from_millis(1))
            });
        }
        if self.feeds.iter().any(|f| f.nothing_accepted().is_some()) {
            // The run ends with exit 4: what the dataflow still writes must not replace a
            // table's results, nor mark it complete.
            stop::withhold_results();
        }
        while !probe.done() {
            self.attend(control);
            // Not parked for good: a Ctrl-C here must be heard.
            worker.step_or_park(Some(Duration::from_millis(10)));
        }
        match self.feeds.iter().find_map(|f| f.nothing_accepted()) {
            Some((name, record, looks_like)) => {
                let message = format!("'{name}' has no valid {record}: every line was rejected");
                Err(match looks_like {
                    // Rows of the right format, rejected for their values (times, ids).
                    Some(format) if format == record => Failure::new(
                        failure::NOTHING_ACCEPTED,
                        format!("{message}, for the reasons given with each line"),
                    ),
                    Some(_) => Failure {
                        looks_like,
                        ..Failure::new(failure::NOTHING_ACCEPTED, message)
                    },
                    None => Failure::new(
                        failure::NOTHING_ACCEPTED,
                        format!("{message}; it does not look like any input format uba reads"),
                    ),
                })
            }
            None => Ok(()),
        }
    }

    /// Announces this process's Ctrl-C or SIGTERM, and acts on a stop every worker knows of: they
    /// end the inputs (the pending windows fire; nothing more is committed), a failure ends the
    /// process.
    fn attend(&mut self, control: &mut Control) {
        for (asked, code, why) in [
            (stop::ctrl_c(), failure::INTERRUPTED, "stopped by Ctrl-C"),
            (stop::sigterm(), failure::TERMINATED, "stopped by SIGTERM"),
        ] {
            if asked {
                control.announce_stop(Stopped {
                    code,
                    reason: self.shared.about(self.shared.process, why),
                });
            }
        }
        match control.attend() {
            Some(stop) if [failure::INTERRUPTED, failure::TERMINATED].contains(&stop.code) => {
                stop::end_inputs();
                self.feeds.iter_mut().for_each(|f| f.close());
            }
            Some(stop) => {
                if self.reads {
                    self.summarize();
                }
                failure::exit(&Failure::new(stop.code, stop.reason));
            }
            None => {}
        }
    }

    /// On the worker that writes: hands the table every process's input fingerprints (each
    /// process announced its own); a table that cannot take them (`--resume` of other inputs)
    /// stops the run everywhere with exit code 2, before anything is written.
    fn check_inputs(&mut self, heard: &[(usize, String)], control: &mut Control) {
        let inputs = heard
            .iter()
            .map(|(process, fingerprint)| self.shared.about(*process, fingerprint))
            .collect::<Vec<_>>()
            .join("; ");
        let mut output = self.shared.output.lock().expect("output lock");
        if let Some(table) = output.as_mut().and_then(Output::table_mut)
            && let Err(reason) = table.agree_on_inputs(inputs)
        {
            control.announce_stop(Stopped {
                code: failure::USAGE,
                reason,
            });
        }
    }

    /// Before the readers start: the side files keep the lines the resumed run wrote before
    /// each input's resume point (`SideOutputs::carry`).
    fn carry_side_lines(&self) {
        let sources = self.shared.sources.lock().expect("sources lock");
        let mut resume_lines = std::collections::HashMap::new();
        for (input, files) in sources.iter().enumerate() {
            for (file, source) in files.iter().enumerate() {
                let (_, _, from) = resumed_checkpoint(self.shared.process, input, file, source);
                resume_lines.insert(source.name.clone(), from.map_or(1, |c| c.line));
            }
        }
        self.shared.sides.carry(&resume_lines);
    }

    /// The accounting line of each input, on stderr, with this process's peak memory.
    fn summarize(&self) {
        let elapsed = self.shared.started.elapsed().as_secs_f64().max(1e-9);
        let peak = peak_rss_kb()
            .map(|kb| format!(", peak RSS {:.1} MB", kb as f64 / 1024.0))
            .unwrap_or_default();
        for (name, a) in self.feeds.iter().flat_map(|f| f.accounting()) {
            crate::engine::status::progress::eprint_line(&format!(
                "uba: {name}: {} lines read: {} accepted ({} used, {} filtered, {} late; {} corrections), {} rejected; {elapsed:.2} s, {:.0} lines/s{peak}",
                a.read,
                a.accepted,
                a.used,
                a.filtered,
                a.late,
                a.corrections,
                a.rejected,
                a.read as f64 / elapsed
            ));
        }
        for (name, line, read) in self.feeds.iter().flat_map(|f| f.resumed()) {
            crate::engine::status::progress::eprint_line(&format!(
                "uba: {name}: resumed at line {line}: {read} lines read in this run"
            ));
        }
    }
}

/// The fingerprints of `files` ([`source::fingerprint`]); one that cannot be read again is an
/// error only when the run is to be resumed. A followed file grows: its position's file
/// identity, checked where it resumes, stands for its fingerprint (a topic's, its partitions').
fn fingerprints(files: &[String], resume: bool, follow: bool) -> Result<String, String> {
    Ok(files
        .iter()
        .map(|p| match source::fingerprint(p) {
            // A topic grows too: its partitions' positions, checked where they resume, stand
            // for its fingerprint.
            _ if kafka::is_url(p) => Ok(format!("{p} (a topic)")),
            Ok(_) if follow => Ok(format!("{p} (followed)")),
            Err(_) if !resume => Ok("not replayable".to_owned()),
            fingerprint => fingerprint,
        })
        .collect::<Result<Vec<_>, _>>()?
        .join(", "))
}

/// The `place`-th file `source` of input `input` on `process`: its number among its input's
/// files (its own, a Kafka partition's, or its place), the key the checkpoints name it by, and
/// the checkpoint it resumes from, if the resumed run committed one. A checkpoint that cannot be
/// read ends the run with one sentence.
fn resumed_checkpoint(
    process: usize,
    input: usize,
    place: usize,
    source: &Source,
) -> (u32, String, Option<source::Checkpoint>) {
    let file = source.index.unwrap_or(place as u32);
    let key = format!("{process}/{input}/{file}");
    let from = crate::engine::status::checkpoints::resumed(&key).map(|text| {
        serde_json::from_str(&text).unwrap_or_else(|e| {
            failure::fail(&format!(
                "cannot resume {}: its checkpoint in the progress row cannot be read: {e}",
                source.name
            ))
        })
    });
    (file, key, from)
}

/// Moves `source` to `checkpoint`'s position. A position that cannot be found again ends the
/// run with one sentence.
fn resume_at(checkpoint: &source::Checkpoint, source: &mut Source) {
    if let Err(e) = source.reader.resume_at(&checkpoint.position) {
        failure::fail(&format!(
            "cannot resume {} at byte {} (line {}): {e}",
            source.name, checkpoint.position.offset, checkpoint.line
        ));
    }
}

/// This process's peak resident memory, from `/proc/self/status` (Linux).
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Checks `-w/-n/-p` and reads the hostfile: the cluster's `host:port`s in process order (timely's
/// default, `localhost:2101` and on, without one); empty for one process.
fn cluster_hosts(cluster: &ClusterArgs) -> Result<Vec<String>, String> {
    if cluster.workers == 0 {
        return Err("-w (workers per process) must be at least 1".into());
    }
    // Also with one process: a `-p 1` without `-n` would otherwise run alone, silently.
    if cluster.process >= cluster.processes.max(1) {
        return Err(format!(
            "-p {} is not a process of -n {} (use 0 to {})",
            cluster.process,
            cluster.processes.max(1),
            cluster.processes.max(1) - 1
        ));
    }
    if cluster.processes <= 1 {
        return Ok(Vec::new());
    }
    match &cluster.hostfile {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read hostfile '{}': {e}", path.display()))?;
            let hosts: Vec<String> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect();
            if hosts.len() < cluster.processes {
                return Err(format!(
                    "hostfile '{}' names {} hosts, -n asks for {}",
                    path.display(),
                    hosts.len(),
                    cluster.processes
                ));
            }
            Ok(hosts[..cluster.processes].to_vec())
        }
        None => Ok((0..cluster.processes)
            .map(|i| format!("localhost:{}", 2101 + i))
            .collect()),
    }
}

/// Timely's allocators: threads of this process, or (with several processes) connections to
/// the others that uba makes itself ([`peers::connect`]).
fn allocators(
    cluster: &ClusterArgs,
    hosts: Vec<String>,
    inputs: &[String],
) -> Result<peers::Connected, Failure> {
    if hosts.is_empty() {
        let (builders, guard) = CommunicationConfig::Process(cluster.workers).try_build()?;
        return Ok(peers::Connected { builders, guard });
    }
    let (job, args) = invocation::invocation();
    let identity = peers::Identity {
        build: invocation::build(),
        job,
        // Each process reads its own `--inputs`.
        arguments: invocation::result_arguments(&args, inputs, &["--inputs"]),
        hosts,
        workers: cluster.workers,
    };
    let timeouts = peers::Timeouts {
        connect: Duration::from_millis(cluster.connect_timeout),
        peer: Duration::from_millis(cluster.peer_timeout),
    };
    peers::connect(cluster.process, &identity, timeouts)
}

/// A fault for the tests, which cannot make a disk fail: `UBA_FAULT_READ_AFTER=BYTES` makes every
/// input file fail with an I/O error (EIO) once that many of its bytes were read, as a failing disk
/// or a lost network mount does mid-file.
fn fault_after() -> Option<u64> {
    std::env::var("UBA_FAULT_READ_AFTER").ok()?.parse().ok()
}

/// A file that fails after `left` more bytes ([`fault_after`]).
struct FailingAfter {
    file: source::FileInput,
    left: u64,
}

impl source::Input for FailingAfter {
    fn position(&mut self, consumed: u64) -> Option<source::Position> {
        self.file.position(consumed)
    }
}

impl std::io::Read for FailingAfter {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Err(std::io::Error::from_raw_os_error(libc::EIO));
        }
        let n = buf.len().min(self.left as usize);
        let n = self.file.read(&mut buf[..n])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// Opens an input path (`-` is stdin) with a clear error; with `follow`, a file is read as it
/// grows ([`Followed`]).
pub fn open_input(path: &str, follow: bool) -> Result<Source, String> {
    if path == "-" {
        return Ok(Source {
            name: "stdin".into(),
            reader: Box::new(source::Unrepeatable(std::io::stdin())),
            size: None,
            index: None,
        });
    }
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open input '{path}': {e}"))?;
    let metadata = file.metadata().ok();
    if metadata.as_ref().is_some_and(|m| m.is_dir()) {
        return Err(format!("input '{path}' is a directory, not a file"));
    }
    Ok(Source {
        name: path.to_owned(),
        index: None,
        // A followed file grows: it has no size to read up to, nor does a named pipe or a device.
        size: metadata
            .as_ref()
            .filter(|m| m.is_file() && !follow)
            .map(|m| m.len()),
        reader: match (follow, fault_after()) {
            (true, _) => Box::new(
                Followed::new(path, file)
                    .map_err(|e| format!("cannot open input '{path}': {e}"))?,
            ),
            (false, fault) => {
                let file = source::FileInput {
                    identity: metadata.as_ref().and_then(source::file_identity),
                    file,
                    start: 0,
                };
                match fault {
                    Some(bytes) => Box::new(FailingAfter { file, left: bytes }),
                    None => Box::new(file),
                }
            }
        },
    })
}

/// Opens an input path as the files this process reads of it, `share = (process, processes)`:
/// a Kafka topic (`kafka://HOST:PORT/TOPIC`) as its partitions dealt out over the processes
/// ([`kafka::open`]), a file or stdin ([`open_input`]) on process 0 alone.
pub fn open_sources(
    path: &str,
    out: &OutputArgs,
    share: (usize, usize),
) -> Result<Vec<Source>, String> {
    if kafka::is_url(path) {
        kafka::open(path, out.until_end, share)
    } else if share.0 == 0 {
        Ok(vec![open_input(path, out.follow)?])
    } else {
        Ok(Vec::new())
    }
}

/// Runs a job: `build` makes the worker's dataflow, feeds its inputs through [`Context::feed`], and
/// returns the probe of its sink. Only the process that holds global worker 0 opens the inputs and
/// the outputs: the others take part in the computation only.
pub fn execute<F>(
    inputs: &[String],
    cluster: &ClusterArgs,
    out: &OutputArgs,
    build: F,
) -> Result<(), Failure>
where
    F: Fn(&mut Worker, &mut Context) -> ProbeHandle<u64> + Send + Sync + 'static,
{
    let hosts = cluster_hosts(cluster)?;
    let display = out.progress()?;
    if cluster.processes > 1 {
        failure::report_lost_peers(cluster.process);
    }
    let first = cluster.processes <= 1 || cluster.process == 0;
    // Each process may read its own files (`--inputs`); otherwise process 0 reads them all.
    let own_files = cluster.inputs.as_deref().map(|list| {
        list.split(',')
            .filter(|p| !p.is_empty())
            .map(String::from)
            .collect::<Vec<_>>()
    });
    if own_files.is_some() && inputs.len() != 1 {
        return Err("--inputs works for jobs with one input; this job has several".into());
    }
    // A Kafka topic's partitions are dealt out: every process reads its share of them.
    let own = own_files.is_some() || inputs.iter().any(|p| kafka::is_url(p));
    let share = (cluster.process, cluster.processes.max(1));
    let sources = match &own_files {
        Some(files) => vec![
            files
                .iter()
                .map(|p| open_sources(p, out, (0, 1)))
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .flatten()
                .collect(),
        ],
        None if first || own => inputs
            .iter()
            .map(|p| open_sources(p, out, share))
            .collect::<Result<Vec<_>, _>>()?,
        None => inputs.iter().map(|_| Vec::new()).collect(),
    };
    // The processes find each other before anything is read or written: a peer that never
    // comes ends the run before a table or an output is touched.
    let connected = allocators(cluster, hosts, inputs)?;
    // A table's resume check covers every byte of every process's inputs: each process
    // fingerprints the files it reads, and announces them before the run starts.
    let inputs_fingerprint = match (&out.sink, &own_files) {
        (None, _) => None,
        (Some(_), Some(files)) => Some(fingerprints(files, out.resume, out.follow)?),
        (Some(_), None) if first => Some(fingerprints(inputs, out.resume, out.follow)?),
        (Some(_), None) => None,
    };
    // A resumed table's side files go on from what the resumed run wrote (`SideOutputs`).
    let carry = out.resume && out.sink.is_some() && out.output.is_none();
    let (output, sides) = if first {
        let mut output = match &out.sink {
            None => Output::open(
                out.output.as_deref(),
                out.format,
                out.zone()?,
                cluster.processes > 1,
                display,
            )?,
            Some(sink) => {
                let files: Vec<String> = own_files.clone().unwrap_or_else(|| inputs.to_vec());
                let table = Table::open(sink, out.table.as_deref(), out.resume, &files)?;
                // An output file beside the table is written whole: its run replays everything.
                if out.output.is_none() {
                    crate::engine::status::checkpoints::set_resumed(table.checkpoints())?;
                }
                match &out.output {
                    Some(path) => Output::open(
                        Some(path),
                        out.format,
                        out.zone()?,
                        cluster.processes > 1,
                        display,
                    )?
                    .with_table(table),
                    None => {
                        if cluster.processes > 1 {
                            output::guarded_stdout()?;
                        }
                        Output::table_only(out.format, out.zone()?, table)
                    }
                }
            }
        };
        output.settled = out.settled;
        if out.http.is_some() {
            output = output.with_live_page();
        }
        (
            Some(output),
            SideOutputs::open(out.rejects.as_deref(), out.late.as_deref(), carry)?,
        )
    } else if own {
        // This process reads its own files: it writes their rejected and late lines itself.
        output::guarded_stdout()?;
        (
            None,
            SideOutputs::open(out.rejects.as_deref(), out.late.as_deref(), carry)?,
        )
    } else {
        // Reads nothing, so has no line to reject: the side files are process 0's alone.
        output::guarded_stdout()?;
        (None, SideOutputs::open(None, None, false)?)
    };
    if first {
        for source in sources.iter().flatten() {
            progress::input(source.size);
        }
    }
    let shared = Arc::new(Shared {
        sources: Mutex::new(sources),
        output: Mutex::new(output),
        sides: Arc::new(sides),
        max_time_jump: out.max_time_jump()?,
        replay_rate: out.replay_rate,
        max_line_bytes: out.max_line_bytes,
        parsers: cluster.parsers(),
        started: Instant::now(),
        process: cluster.process,
        processes: cluster.processes,
    });
    if out.report_latency {
        crate::engine::status::latency::enable();
    }
    // Process 0 shows the progress of the inputs it reads (a cluster's others would draw over it).
    if first {
        let zone = out.zone()?;
        progress::start(display, move |ms| {
            crate::engine::time::time_fmt::format_ms(ms, zone.offset_at(ms))
        });
    }
    // Process 0 serves the page and the metrics of the inputs it reads and the output it writes.
    crate::engine::status::metrics::set_process(cluster.process);
    let http = out.http.as_deref().filter(|_| first);
    if let Some(address) = http {
        crate::engine::status::http::serve(address)?;
    }
    let http = http.is_some();
    stop::install_ctrl_c();
    let (workers, processes) = (cluster.workers, cluster.processes);
    let guards = timely::execute::execute_from(
        connected.builders,
        connected.guard,
        timely::WorkerConfig::default(),
        move |worker| {
            let mut ctx = Context {
                shared: shared.clone(),
                writes: worker.index() == 0,
                reads: if own {
                    worker.index() % workers == 0
                } else {
                    worker.index() == 0
                },
                feeds: Vec::new(),
                horizon: Some(0),
                declared: false,
            };
            if http {
                crate::engine::status::introspection::register(worker);
            }
            let mut control = Control::new(worker, ctx.writes);
            let heard = control.agree_on_inputs(
                worker,
                worker.index() / workers,
                ctx.reads.then(|| inputs_fingerprint.clone()).flatten(),
                ctx.writes
                    .then(crate::engine::status::checkpoints::resumed_json)
                    .filter(|_| processes > 1),
            );
            if ctx.writes {
                ctx.check_inputs(&heard, &mut control);
            }
            if ctx.reads {
                ctx.carry_side_lines();
                if !ctx.writes {
                    crate::engine::status::checkpoints::relay();
                }
            }
            let probe = build(worker, &mut ctx);
            if ctx.writes {
                crate::engine::status::checkpoints::set_horizon(ctx.horizon);
            }
            let result = ctx.drive(worker, &probe, &mut control);
            control.close();
            if ctx.reads {
                progress::finish();
                ctx.shared.sides.finish();
                ctx.summarize();
                if let Some(line) = crate::engine::status::latency::report() {
                    crate::engine::status::progress::eprint_line(&format!("uba: {line}"));
                }
            }
            result
        },
    )?;
    let results = guards.join();
    progress::finish();
    crate::engine::status::live::end();
    if let Some(stop) = stop::stopped() {
        // Stopped by Ctrl-C (a failure has exited already): what was written is the answer for
        // the input read until then, which the outputs keep; a table was not marked complete.
        failure::commit_outputs()?;
        return Err(Failure::new(stop.code, stop.reason));
    }
    for result in results {
        match result {
            Ok(Ok(())) => {}
            // The run itself ended well, and its outputs are complete: the side files say why
            // nothing was accepted.
            Ok(Err(e)) if e.code == failure::NOTHING_ACCEPTED => {
                failure::commit_outputs()?;
                return Err(e);
            }
            Ok(Err(e)) => return Err(e),
            Err(panic) => {
                return Err(Failure::new(
                    failure::FAILED,
                    format!("a worker failed: {panic}"),
                ));
            }
        }
    }
    failure::commit_outputs()
}
