//! Sources: one reader thread per input file turns its lines into timestamped updates.
//!
//! The reader thread does everything that must happen in input order (parsing, the bogus-time
//! guard, the watermark, the lateness decision, the accounting, the rejects and late side outputs)
//! and sends consolidated batches to the one worker that feeds the input into the dataflow. Only
//! that worker (global worker 0) holds the input's session; every other worker closes its session at
//! once, so it never holds the frontier back. Parsing thus overlaps with the dataflow's work, and
//! every decision is a fact of the file, whatever `-w`, `-n` or the batch sizes.

use std::collections::VecDeque;
use std::io::Read;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};

use differential_dataflow::ExchangeData;
use differential_dataflow::consolidation::consolidate_updates;
use differential_dataflow::input::InputSession;
use timely::dataflow::ProbeHandle;

use crate::engine::input::event_time::{Arrival, EventClock, Lateness, TimeGuard};
use crate::engine::input::records::{Record, Reject};
use crate::engine::input::side::SideOutputs;
use crate::engine::status::metrics::{InputCounts, InputMetrics};

/// What identifies an input's contents for `--resume`: its size and a hash of every byte (an
/// edit anywhere, of any length, changes it). Read once before the run, in blocks of a fixed
/// size, so the hash never depends on how reads split the file. Stdin and pipes cannot be read
/// again: they have none.
pub fn fingerprint(path: &str) -> Result<String, String> {
    use std::hash::{BuildHasher, Hasher};
    use std::io::Read;
    let not_replayable = |what: &str| {
        format!(
            "--resume needs inputs that can be read again: {what} (write the stream to a file as well, and resume from the file)"
        )
    };
    if path == "-" {
        return Err(not_replayable("stdin cannot"));
    }
    // Reading a pipe here would take lines from the job's own reader.
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
        return Err(not_replayable(&format!("'{path}' is not a regular file")));
    }
    let mut file =
        std::fs::File::open(path).map_err(|e| format!("cannot open input '{path}': {e}"))?;
    let mut hasher = foldhash::quality::FixedState::with_seed(0x75ba).build_hasher();
    let mut block = vec![0u8; BLOCK];
    let mut size = 0u64;
    loop {
        let mut filled = 0;
        while filled < block.len() {
            match file.read(&mut block[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("cannot read input '{path}': {e}")),
            }
        }
        hasher.write(&block[..filled]);
        size += filled as u64;
        if filled < block.len() {
            return Ok(format!("{size} bytes, {:016x}", hasher.finish()));
        }
    }
}

/// The bytes read at a time. Larger blocks mean fewer, larger batches per timestamp.
const BLOCK: usize = 1 << 20;

/// The first valid rows whose median anchors the bogus-time guard: the start of the input, not a
/// whole block (a small file spanning days, like `apache.log`, fits in one block and its median
/// would be days after its first lines). They are the first rows of the input, whatever the block
/// size (`--replay-rate` reads small blocks; a pipe gives what it has): the reader holds its first
/// lines back, undecided, until it has read this many valid rows, or [`ANCHOR_BYTES`] of input,
/// or the input ended ([`Held`]). On a live stream the first rows thus wait for the 1,000th.
const ANCHOR_ROWS: usize = 1000;

/// Only rows on lines that start in the first this many bytes of an input anchor its guard: what
/// is held back stays bounded when the input starts with many lines that are not valid rows (a
/// wrong file). If those bytes hold no valid row, the first row checked becomes the anchor.
const ANCHOR_BYTES: u64 = 16 << 20;

/// Where an input stands, for a resumed run to open it there again: which bytes (a file's device
/// and inode, so that a file rotated away is found again; a Kafka partition), and the offset in
/// them of the byte after the last line taken (a file's byte offset, a partition's next offset).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Position {
    pub identity: String,
    pub offset: u64,
}

/// The bytes of an input as its reader takes them: a file, a followed file, a Kafka partition.
pub trait Input: Read + Send {
    /// The position just after the first `consumed` bytes read from this input (always the end
    /// of a line); `None` where the input cannot be read again (stdin, a pipe). Called with
    /// `consumed` that never decreases, so an input may forget what lies before.
    fn position(&mut self, consumed: u64) -> Option<Position>;

    /// Before the first read: go to `position`, which this input (or the run it resumes) gave.
    /// `consumed` then counts from there.
    fn resume_at(&mut self, position: &Position) -> Result<(), String> {
        let _ = position;
        Err("it cannot be read again".into())
    }
}

/// Stdin, a pipe: read once.
pub struct Unrepeatable<R>(pub R);

impl<R: Read> Read for Unrepeatable<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl<R: Read + Send> Input for Unrepeatable<R> {
    fn position(&mut self, _consumed: u64) -> Option<Position> {
        None
    }
}

/// A file read from byte `start` on.
pub struct FileInput {
    pub file: std::fs::File,
    /// Its device and inode ([`file_identity`]); `None` for a pipe or a device.
    pub identity: Option<String>,
    pub start: u64,
}

impl Read for FileInput {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.file.read(buf)
    }
}

impl Input for FileInput {
    fn position(&mut self, consumed: u64) -> Option<Position> {
        Some(Position {
            identity: self.identity.clone()?,
            offset: self.start + consumed,
        })
    }

    /// A file's contents were checked before (its fingerprint, every byte): the same bytes may
    /// be another copy of the file, so its identity is not compared.
    fn resume_at(&mut self, position: &Position) -> Result<(), String> {
        use std::io::{Seek, SeekFrom};
        self.identity.as_ref().ok_or("it is not a regular file")?;
        self.file
            .seek(SeekFrom::Start(position.offset))
            .map_err(|e| e.to_string())?;
        self.start = position.offset;
        Ok(())
    }
}

/// How a position names a regular file: `dev:inode`, which a rename keeps.
pub fn file_identity(metadata: &std::fs::Metadata) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    metadata
        .is_file()
        .then(|| format!("{}:{}", metadata.dev(), metadata.ino()))
}

/// An opened input: its name for messages, and its bytes.
pub struct Source {
    pub name: String,
    pub reader: Box<dyn Input>,
    /// Its size in bytes, when known (a file; not stdin or a pipe): the progress line's total.
    pub size: Option<u64>,
    /// Its number among the files of its input, where it has one of its own (a Kafka
    /// partition's), whichever process reads it; else its place in the list of files. Events of
    /// equal times are ordered by it ([`Origin`]).
    pub index: Option<u32>,
}

/// Where a record came from: which file of its input, and which line. Orders like
/// (file, line), which is how events with equal timestamps are ordered wherever order matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Origin {
    pub file: u32,
    pub line: u64,
}

impl Origin {
    /// One number that orders like the origin (lines below 2^40 per file).
    pub fn seq(self) -> u64 {
        (u64::from(self.file) << 40) | self.line
    }
}

/// How an input's times are judged.
#[derive(Clone, Copy, Debug)]
pub struct TimePolicy {
    pub out_of_orderness: u64,
    pub lateness: Lateness,
    /// See [`TimeGuard`]; `None` turns the guard off.
    pub max_time_jump: Option<u64>,
    /// Read at most this many lines per second of wall-clock time (benchmarks).
    pub replay_rate: Option<u64>,
    /// A longer line is rejected as too long, and read past without being held.
    pub max_line_bytes: usize,
    /// Threads that parse each block of lines (the reader's own included), each a share of its
    /// lines; what follows parsing (the watermark, lateness, accounting) stays one pass in line
    /// order, so every decision is the same as with one.
    pub parsers: usize,
    /// Whether a batch's updates are consolidated (sorted, equal ones added up) before they are
    /// sent: worth it when many lines place the same record (an item's view in a pane), a sort
    /// for nothing when each record carries its line (`Context::feed_with_origin`): that sort
    /// was a fifth of ad-stats' instructions.
    pub consolidate: bool,
}

/// Where every line of one input ended up: `read = accepted + rejected`,
/// `accepted = used + filtered + late`; `corrections` are the used records that arrived behind
/// the watermark and changed windows that were still alive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Accounting {
    pub read: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub used: u64,
    pub filtered: u64,
    pub late: u64,
    pub corrections: u64,
    /// Bytes read.
    pub bytes: u64,
}

impl Accounting {
    /// The counts as the metrics take them, at watermark `watermark`.
    fn counts(&self, watermark: u64) -> InputCounts {
        InputCounts {
            accepted: self.accepted,
            rejected: self.rejected,
            late: self.late,
            filtered: self.filtered,
            corrections: self.corrections,
            bytes: self.bytes,
            watermark,
        }
    }
}

/// A reader's state between two lines, from which a resumed run reads on exactly as this one
/// did ([`crate::engine::status::checkpoints`]): where the next line is, its number, the
/// highest time seen (the watermark and every lateness decision follow from it), the guard's
/// anchor, and the accounting so far.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Checkpoint {
    pub position: Position,
    pub line: u64,
    pub max_ts: Option<u64>,
    pub anchor: Option<u64>,
    pub counts: Accounting,
}

enum Message<D> {
    Batch {
        updates: Vec<(D, u64, isize)>,
        frontier: u64,
        accounting: Accounting,
        checkpoint: Option<Checkpoint>,
    },
    Done {
        accounting: Accounting,
        error: Option<String>,
        /// When lines were read and none was accepted: the format they look like, if any.
        looks_like: Option<&'static str>,
    },
}

/// How many rejected lines are kept to tell which format a wrong input is.
const SAMPLES: usize = 20;

/// Spawns the reader thread of one input. `keep` says which accepted records the job uses (the
/// others still move the watermark); `place` turns a kept record and the time at which it enters
/// (its own time, or the watermark for a correction) into an update and its time.
pub fn spawn_reader<R, D, K, P>(
    source: Source,
    file: u32,
    policy: TimePolicy,
    sides: Arc<SideOutputs>,
    keep: K,
    place: P,
    resume: Resume,
) -> Reading<D>
where
    R: Record,
    D: ExchangeData,
    K: Fn(&R) -> bool + Send + 'static,
    P: FnMut(R, u64, Origin) -> (D, u64) + Send + 'static,
{
    let (tx, rx) = sync_channel(4);
    let name = source.name.clone();
    let mut state = ReaderState::new(&policy, source.name);
    if let Some(from) = &resume.from {
        state.restore(from);
        crate::engine::status::checkpoints::record(
            &resume.key,
            from.max_ts,
            from.line,
            serde_json::to_string(from).expect("a checkpoint"),
        );
    }
    let resumed = resume.from.as_ref().map(|c| (c.line, c.counts));
    std::thread::Builder::new()
        .name(format!("uba-read {name}"))
        .spawn(move || {
            let mut reader = Reader {
                file,
                policy,
                sides,
                keep,
                place,
                tx: tx.clone(),
                state,
                read_here: 0,
            };
            let error = reader.run(source.reader).err();
            crate::engine::status::latency::watermark(u64::MAX);
            let counts = reader.state.counts;
            let looks_like = (counts.read > 0 && counts.accepted == 0)
                .then(|| crate::engine::input::records::sniff(&reader.state.samples))
                .flatten();
            let _ = tx.send(Message::Done {
                accounting: counts,
                error,
                looks_like,
            });
        })
        .expect("spawning a reader thread");
    Reading {
        metrics: InputMetrics::new(&name),
        key: resume.key,
        resumed,
        name,
        record: R::NAME,
        looks_like: None,
        rx,
        frontier: 0,
        accounting: resumed.map(|(_, counts)| counts).unwrap_or_default(),
        done: false,
        error: None,
    }
}

struct ReaderState {
    name: String,
    clock: EventClock,
    guard: TimeGuard,
    counts: Accounting,
    next_line: u64,
    /// The first rejected lines, to tell which format a wrong input is.
    samples: Vec<Vec<u8>>,
}

/// Which input a reader reads, among all of the run's ([`crate::engine::status::checkpoints`]'s
/// key), and the checkpoint it resumes from, if any.
pub struct Resume {
    pub key: String,
    pub from: Option<Checkpoint>,
}

impl ReaderState {
    /// Reads on from `from` (a resumed run): the next line's number, the clock, the anchored
    /// guard and the counts are as they were there.
    fn restore(&mut self, from: &Checkpoint) {
        self.next_line = from.line;
        self.clock.restore(from.max_ts);
        self.guard.restore(from.anchor);
        self.counts = from.counts;
    }

    fn new(policy: &TimePolicy, name: String) -> Self {
        ReaderState {
            name,
            clock: EventClock::new(policy.out_of_orderness),
            guard: TimeGuard::new(policy.max_time_jump),
            counts: Accounting::default(),
            next_line: 1,
            samples: Vec::new(),
        }
    }
}

struct Reader<K, P, D> {
    /// The file's index among the files of its input.
    file: u32,
    policy: TimePolicy,
    sides: Arc<SideOutputs>,
    keep: K,
    place: P,
    tx: SyncSender<Message<D>>,
    state: ReaderState,
    /// Bytes read from the input in this run (from where it resumed).
    read_here: u64,
}

impl<K, P, D> Reader<K, P, D> {
    /// Reads blocks, hands every run of whole lines to `lines`, and sends one batch per block.
    fn run<R>(&mut self, mut input: Box<dyn Input>) -> Result<(), String>
    where
        R: Record,
        D: ExchangeData,
        K: Fn(&R) -> bool,
        P: FnMut(R, u64, Origin) -> (D, u64),
    {
        // Paced replays read small blocks, so that batches follow the pace closely.
        let block = if self.policy.replay_rate.is_some() {
            BLOCK / 64
        } else {
            BLOCK
        };
        let mut buffer = vec![0u8; block];
        let mut filled = 0;
        let mut shown_lines = 0;
        let started = std::time::Instant::now();
        // The first lines wait here, undecided, until the guard can be anchored on the first
        // rows of the input, not of the first block (see `ANCHOR_ROWS`). Not with the guard off.
        let mut held = self.state.guard.needs_anchor().then(Held::default);
        loop {
            if crate::engine::status::stop::inputs_ended() {
                return Ok(());
            }
            if filled == buffer.len() {
                // The buffer holds one unfinished line (whole lines were handed on).
                if filled > self.policy.max_line_bytes {
                    filled = self.skip_long_line(&mut input, &mut buffer, filled, held.as_mut())?;
                    continue;
                }
                buffer.resize(buffer.len() * 2, 0); // a line longer than a block
            }
            let n = match input.read(&mut buffer[filled..]) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(format!("cannot read {}: {e}", self.state.name)),
            };
            let eof = n == 0;
            filled += n;
            self.read_here += n as u64;
            self.state.counts.bytes += n as u64;
            crate::engine::status::progress::read(n as u64, 0);
            let complete = if eof {
                filled
            } else {
                match memchr::memrchr(b'\n', &buffer[..filled]) {
                    Some(i) => i + 1,
                    None if filled > self.policy.max_line_bytes => {
                        filled =
                            self.skip_long_line(&mut input, &mut buffer, filled, held.as_mut())?;
                        continue;
                    }
                    None => continue,
                }
            };
            let updates = match held.as_mut() {
                None => (complete > 0).then(|| self.lines::<R>(&buffer[..complete])),
                Some(first) => {
                    first.add::<R>(&buffer[..complete], self.policy.max_line_bytes);
                    if first.anchors() || eof {
                        let first = held.take().expect("lines held back");
                        self.release::<R>(first)
                    } else {
                        None
                    }
                }
            };
            buffer.copy_within(complete..filled, 0);
            filled -= complete;
            if let Some(updates) = updates {
                crate::engine::status::progress::read(0, self.state.counts.read - shown_lines);
                shown_lines = self.state.counts.read;
                if let Some(rate) = self.policy.replay_rate {
                    let due = std::time::Duration::from_secs_f64(
                        self.state.counts.read as f64 / rate.max(1) as f64,
                    );
                    if let Some(wait) = due.checked_sub(started.elapsed()) {
                        std::thread::sleep(wait);
                    }
                }
                crate::engine::status::latency::watermark(self.state.clock.frontier());
                let batch = Message::Batch {
                    updates,
                    frontier: self.state.clock.frontier(),
                    accounting: self.state.counts,
                    checkpoint: self.checkpoint(&mut input, filled),
                };
                if self.tx.send(batch).is_err() {
                    return Ok(()); // the dataflow stopped listening (Ctrl-C)
                }
            }
            if eof {
                return Ok(());
            }
        }
    }

    /// The reader's state after the lines decided so far, `left` bytes read being undecided.
    fn checkpoint(&self, input: &mut Box<dyn Input>, left: usize) -> Option<Checkpoint> {
        let position = input.position(self.read_here - left as u64)?;
        self.sides.flush();
        Some(Checkpoint {
            position,
            line: self.state.next_line,
            max_ts: self.state.clock.max_ts(),
            anchor: self.state.guard.anchor(),
            // The bytes up to the position: the rest is read again from there.
            counts: Accounting {
                bytes: self.state.counts.bytes - left as u64,
                ..self.state.counts
            },
        })
    }

    /// Rejects the line that fills `buffer[..filled]` without a newline as too long (or holds
    /// its rejection back with the lines before it, in `held`), and reads past its end without
    /// holding it. Returns how many bytes of the following lines are left at the start of the
    /// buffer.
    fn skip_long_line(
        &mut self,
        input: &mut Box<dyn Input>,
        buffer: &mut [u8],
        filled: usize,
        held: Option<&mut Held>,
    ) -> Result<usize, String> {
        let shown = shortened(&buffer[..filled]);
        if held.is_none() {
            self.too_long(&shown);
        }
        let mut length = filled as u64;
        let left = loop {
            let n = match input.read(buffer) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(format!("cannot read {}: {e}", self.state.name)),
            };
            if n == 0 {
                break 0;
            }
            self.read_here += n as u64;
            self.state.counts.bytes += n as u64;
            if let Some(end) = memchr::memchr(b'\n', &buffer[..n]) {
                length += end as u64 + 1;
                buffer.copy_within(end + 1..n, 0);
                break n - end - 1;
            }
            length += n as u64;
        };
        if let Some(held) = held {
            held.too_long(shown, length);
        }
        Ok(left)
    }

    /// Rejects the next line as longer than `--max-line-bytes`; `shown` is its start.
    fn too_long(&mut self, shown: &[u8]) {
        let reason = Reject::TooLong {
            limit: self.policy.max_line_bytes,
        };
        self.state.counts.read += 1;
        self.reject(self.state.next_line, &reason, shown);
        self.state.next_line += 1;
    }

    /// Anchors the guard on the first rows of the input, then decides the lines held back until
    /// then, in line order, as if they had come in one block. None when nothing was held (an
    /// empty input): no batch.
    fn release<R>(&mut self, held: Held) -> Option<Vec<(D, u64, isize)>>
    where
        R: Record,
        D: ExchangeData,
        K: Fn(&R) -> bool,
        P: FnMut(R, u64, Origin) -> (D, u64),
    {
        self.state.guard.anchor_at_median(held.times);
        if held.parts.is_empty() {
            return None;
        }
        let mut updates = Vec::new();
        for part in held.parts {
            match part {
                HeldPart::Lines(bytes) => updates.extend(self.lines::<R>(&bytes)),
                HeldPart::TooLong(shown) => self.too_long(&shown),
            }
        }
        if self.policy.consolidate {
            consolidate_updates(&mut updates);
        }
        Some(updates)
    }

    /// Parses whole lines; returns their updates, consolidated.
    fn lines<R>(&mut self, bytes: &[u8]) -> Vec<(D, u64, isize)>
    where
        R: Record,
        D: ExchangeData,
        K: Fn(&R) -> bool,
        P: FnMut(R, u64, Origin) -> (D, u64),
    {
        debug_assert!(
            !self.state.guard.needs_anchor(),
            "lines decided before the guard has its anchor"
        );
        let mut updates = Vec::new();
        let first_line = self.state.next_line;
        let mut expected = 1;
        // Only a run of lines longer than the limit can hold a line longer than it.
        let check_lengths = bytes.len() > self.policy.max_line_bytes;
        for (line, start, parsed) in parse_lines::<R>(bytes, self.policy.parsers) {
            let line_text = || line_text(&bytes[start..]);
            for blank in expected..line {
                self.reject(first_line + blank - 1, &Reject::Empty, b"");
            }
            expected = line + 1;
            let number = first_line + line - 1;
            self.state.counts.read += 1;
            let parsed = if check_lengths && line_text().len() > self.policy.max_line_bytes {
                Err(Reject::TooLong {
                    limit: self.policy.max_line_bytes,
                })
            } else {
                parsed
            };
            let record = parsed
                .and_then(|r| {
                    crate::engine::input::records::within_range(r.event_time()).map(|_| r)
                })
                .and_then(|r| self.state.guard.check(r.event_time()).map(|_| r));
            let record = match record {
                Ok(record) => record,
                Err(reason @ Reject::TooLong { .. }) => {
                    self.reject(number, &reason, &shortened(line_text()));
                    continue;
                }
                Err(reason) => {
                    self.reject(number, &reason, line_text());
                    continue;
                }
            };
            self.state.counts.accepted += 1;
            let ts = record.event_time();
            self.state.clock.observe(ts);
            if !(self.keep)(&record) {
                self.state.counts.filtered += 1;
                continue;
            }
            let frontier = self.state.clock.frontier();
            let at = match self.policy.lateness.classify(ts, frontier) {
                Arrival::OnTime => ts,
                Arrival::Correction { at } => {
                    self.state.counts.corrections += 1;
                    at
                }
                Arrival::Late { behind } => {
                    self.state.counts.late += 1;
                    let reason = match self.policy.lateness {
                        Lateness::Windowed(_) => {
                            format!("{behind} ms behind the watermark; no window of it is alive")
                        }
                        Lateness::Strict => format!("{behind} ms behind the watermark"),
                    };
                    self.sides
                        .late(&self.state.name, number, &reason, line_text());
                    continue;
                }
            };
            self.state.counts.used += 1;
            let (data, time) = (self.place)(
                record,
                at,
                Origin {
                    file: self.file,
                    line: number,
                },
            );
            updates.push((data, time, 1));
        }
        let lines =
            memchr::memchr_iter(b'\n', bytes).count() as u64 + u64::from(!bytes.ends_with(b"\n"));
        for blank in expected..=lines {
            self.reject(first_line + blank - 1, &Reject::Empty, b"");
        }
        self.state.next_line += lines;
        if self.policy.consolidate {
            consolidate_updates(&mut updates);
        }
        updates
    }

    fn reject(&mut self, line: u64, reason: &Reject, text: &[u8]) {
        if matches!(reason, Reject::Empty) {
            self.state.counts.read += 1;
        }
        self.state.counts.rejected += 1;
        if self.state.samples.len() < SAMPLES && !text.is_empty() {
            self.state
                .samples
                .push(text[..text.len().min(4096)].to_vec());
        }
        self.sides
            .reject(&self.state.name, line, &reason.to_string(), text);
    }
}

/// The first lines of an input, held back undecided until the bogus-time guard has its anchor: the
/// median of the first [`ANCHOR_ROWS`] valid rows of the input (among its first [`ANCHOR_BYTES`]),
/// or of all of them if the input ends before. Which lines they are, and so every decision, is a
/// fact of the input, whatever the blocks it was read in.
#[derive(Default)]
struct Held {
    /// The lines, in input order: runs of whole lines, and the start of each line too long to
    /// hold (its rejection waits with the lines before it).
    parts: Vec<HeldPart>,
    /// The times of the valid rows among them (those that pass everything but the guard), in line
    /// order, at most [`ANCHOR_ROWS`].
    times: Vec<u64>,
    /// The bytes of input they span, the lines too long to hold included.
    bytes: u64,
}

enum HeldPart {
    Lines(Vec<u8>),
    TooLong(Vec<u8>),
}

impl Held {
    /// Holds a run of whole lines, and takes the times of its valid rows.
    fn add<R: Record>(&mut self, run: &[u8], max_line_bytes: usize) {
        if run.is_empty() {
            return;
        }
        let mut records = records::<R>(run);
        while self.times.len() < ANCHOR_ROWS {
            let Some((_, parsed)) = records.next() else {
                break;
            };
            if self.bytes + records.start as u64 >= ANCHOR_BYTES {
                break;
            }
            let valid = parsed.ok().map(|r| r.event_time()).filter(|&ts| {
                line_text(&run[records.start..]).len() <= max_line_bytes
                    && crate::engine::input::records::within_range(ts).is_ok()
            });
            self.times.extend(valid);
        }
        match self.parts.last_mut() {
            Some(HeldPart::Lines(lines)) => lines.extend_from_slice(run),
            _ => self.parts.push(HeldPart::Lines(run.to_vec())),
        }
        self.bytes += run.len() as u64;
    }

    /// Holds the rejection of a line too long to hold, `length` bytes with its newline.
    fn too_long(&mut self, shown: Vec<u8>, length: u64) {
        self.parts.push(HeldPart::TooLong(shown));
        self.bytes += length;
    }

    /// Whether the rows that anchor the guard are all read (else they are, at the end of input).
    fn anchors(&self) -> bool {
        self.times.len() >= ANCHOR_ROWS || self.bytes >= ANCHOR_BYTES
    }
}

/// The start of a line too long to show whole in the rejects output.
fn shortened(text: &[u8]) -> Vec<u8> {
    let mut shown = text[..text.len().min(100)].to_vec();
    shown.extend_from_slice(b"...");
    shown
}

/// The records of a run of whole lines, in line order, each with its line number (1-based,
/// within the run) and the byte offset of its line, parsed on `threads` threads: each takes a
/// share of the lines, cut at line ends. Parsing is most of a reader's work (85% at -w 16), and
/// a reader is one thread per file: with cheap jobs (pv, uv) it was the ceiling.
fn parse_lines<R: Record>(bytes: &[u8], threads: usize) -> Vec<(u64, usize, Result<R, Reject>)> {
    // Where each share starts (after a line end), and how many lines come before it.
    let mut starts = vec![(0, 0)];
    let mut lines_before = 0;
    for k in 1..threads.max(1) {
        let (from, _) = *starts.last().expect("a first share");
        let target = (bytes.len() * k / threads).max(from);
        let Some(end) = memchr::memchr(b'\n', &bytes[target..]) else {
            break;
        };
        let start = target + end + 1;
        if start >= bytes.len() {
            break;
        }
        lines_before += memchr::memchr_iter(b'\n', &bytes[from..start]).count() as u64;
        starts.push((start, lines_before));
    }
    // Each share ends where the next begins: parse only up to there.
    let bounded = |k: usize| {
        let (offset, before) = starts[k];
        let end = starts.get(k + 1).map_or(bytes.len(), |s| s.0);
        let mut records = records::<R>(&bytes[offset..end]);
        let mut parsed = Vec::new();
        while let Some((line, result)) = records.next() {
            parsed.push((before + line, offset + records.start, result));
        }
        parsed
    };
    if starts.len() == 1 {
        return bounded(0);
    }
    std::thread::scope(|scope| {
        let others: Vec<_> = (1..starts.len())
            .map(|k| scope.spawn(move || bounded(k)))
            .collect();
        let mut all = bounded(0);
        for other in others {
            all.extend(other.join().expect("a parser thread"));
        }
        all
    })
}

/// The text of the line that starts `rest`, for the side outputs.
fn line_text(rest: &[u8]) -> &[u8] {
    let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
    rest[..end].strip_suffix(b"\r").unwrap_or(&rest[..end])
}

/// The records of a run of whole lines, with their line numbers (1-based, within the run).
fn records<R: Record>(bytes: &[u8]) -> Records<'_, R> {
    Records {
        bytes,
        next: 0,
        start: 0,
        line: 0,
        _record: std::marker::PhantomData,
    }
}

/// The lines of a run, each parsed ([`Record::parse_line`]). Only a newline ends a
/// line: a stray carriage return inside a line must not split it (a CRLF line's `\r` is taken off
/// its last field). Blank lines (a lone `\r` too) are skipped, keeping their numbers: the caller
/// reports them as empty.
struct Records<'a, R> {
    bytes: &'a [u8],
    /// Byte offset of the next line to read.
    next: usize,
    /// Byte offset and line number (1-based) of the last record returned.
    start: usize,
    line: u64,
    _record: std::marker::PhantomData<R>,
}

impl<R: Record> Records<'_, R> {
    fn next(&mut self) -> Option<(u64, Result<R, Reject>)> {
        while self.next < self.bytes.len() {
            let start = self.next;
            let end =
                memchr::memchr(b'\n', &self.bytes[start..]).map_or(self.bytes.len(), |e| start + e);
            self.next = end + 1;
            self.line += 1;
            let text = &self.bytes[start..end];
            let text = text.strip_suffix(b"\r").unwrap_or(text);
            if text.is_empty() {
                continue;
            }
            self.start = start;
            return Some((self.line, R::parse_line(text)));
        }
        None
    }
}

impl<R: Record> Iterator for Records<'_, R> {
    type Item = (u64, Result<R, Reject>);
    fn next(&mut self) -> Option<Self::Item> {
        Records::next(self)
    }
}

/// The worker's end of one reader thread.
pub struct Reading<D> {
    name: String,
    /// Its key among the run's inputs, for its checkpoints.
    key: String,
    /// Where it resumed: the line number and the counts there.
    resumed: Option<(u64, Accounting)>,
    /// What `/metrics` and the live page show of this file (`--http`).
    metrics: InputMetrics,
    /// The name of the record format this input is read as ([`Record::NAME`]).
    record: &'static str,
    /// See `Message::Done`.
    looks_like: Option<&'static str>,
    rx: Receiver<Message<D>>,
    frontier: u64,
    accounting: Accounting,
    done: bool,
    error: Option<String>,
}

/// The worker's end of one input: the readers of its files (usually one), feeding one session.
///
/// Each file has its own watermark; the session advances to the least of them, so that a file
/// that is behind holds the input back, and a finished file no longer does.
pub struct Feed<D: ExchangeData> {
    readings: Vec<Reading<D>>,
    session: Option<InputSession<u64, D, isize>>,
    /// The session's time after the last batches: the dataflow may lag this many behind.
    recent: VecDeque<u64>,
}

impl<D: ExchangeData> Feed<D> {
    pub fn new(readings: Vec<Reading<D>>, session: InputSession<u64, D, isize>) -> Self {
        Feed {
            readings,
            session: Some(session),
            recent: VecDeque::new(),
        }
    }

    /// The least watermark of the files still read. A file that failed holds the input at its
    /// last watermark for good: no time after the failure may complete (the run stops instead).
    fn session_time(&self) -> Option<u64> {
        self.readings
            .iter()
            .filter(|r| !r.done || r.error.is_some())
            .map(|r| r.frontier)
            .min()
    }
}

/// What a worker needs from an input, whatever its record type.
pub trait Pump {
    fn done(&self) -> bool;
    /// The input's watermark: the least watermark of its unfinished files.
    fn frontier(&self) -> u64;
    /// Moves at most one batch into the dataflow, if the dataflow has caught up enough.
    /// Returns whether anything happened.
    fn pump(&mut self, probe: &ProbeHandle<u64>) -> bool;
    /// Closes the input (end of input or Ctrl-C).
    fn close(&mut self);
    /// Each file's name and accounting.
    fn accounting(&self) -> Vec<(String, Accounting)>;
    /// Each resumed file's name, the line it resumed at, and the lines it read in this run.
    fn resumed(&self) -> Vec<(String, u64, u64)>;
    /// The first file that had lines but accepted none: its name, the format it was read as,
    /// and the format its lines look like.
    fn nothing_accepted(&self) -> Option<(&str, &'static str, Option<&'static str>)>;
    fn error(&self) -> Option<&str>;
}

impl<D: ExchangeData> Pump for Feed<D> {
    fn done(&self) -> bool {
        self.session.is_none()
    }
    fn frontier(&self) -> u64 {
        self.session_time().unwrap_or(u64::MAX)
    }
    fn pump(&mut self, probe: &ProbeHandle<u64>) -> bool {
        if self.done() || self.recent.len() >= 2 && probe.less_than(&self.recent[0]) {
            return false;
        }
        // The file furthest behind goes first, so that none runs far ahead of the others.
        let Some(reading) = self
            .readings
            .iter_mut()
            .filter(|r| !r.done)
            .min_by_key(|r| r.frontier)
        else {
            // Every file is done; one that failed keeps the input open.
            if self.session_time().is_some() {
                return false;
            }
            self.close();
            return true;
        };
        match reading.rx.try_recv() {
            Ok(Message::Batch {
                updates,
                frontier,
                accounting,
                checkpoint,
            }) => {
                if let Some(checkpoint) = checkpoint {
                    crate::engine::status::checkpoints::record(
                        &reading.key,
                        checkpoint.max_ts,
                        checkpoint.line,
                        serde_json::to_string(&checkpoint).expect("a checkpoint"),
                    );
                }
                let session = self.session.as_mut().expect("an open feed has a session");
                for (data, time, diff) in updates {
                    session.update_at(data, time, diff);
                }
                reading.frontier = frontier;
                reading.accounting = accounting;
                reading.metrics.update(accounting.counts(frontier));
            }
            Ok(Message::Done {
                accounting,
                error,
                looks_like,
            }) => {
                reading.accounting = accounting;
                reading.metrics.update(accounting.counts(reading.frontier));
                reading.error = error;
                reading.looks_like = looks_like;
                reading.done = true;
            }
            Err(TryRecvError::Empty) => return false,
            Err(TryRecvError::Disconnected) => {
                reading.error = Some(format!(
                    "the reader of {} stopped unexpectedly",
                    reading.name
                ));
                reading.done = true;
            }
        }
        match self.session_time() {
            Some(time) => {
                let session = self.session.as_mut().expect("an open feed has a session");
                session.advance_to(time);
                session.flush();
                self.recent.push_back(time);
                if self.recent.len() > 2 {
                    self.recent.pop_front();
                }
            }
            None => self.close(),
        }
        true
    }
    fn close(&mut self) {
        self.session = None;
    }
    fn accounting(&self) -> Vec<(String, Accounting)> {
        self.readings
            .iter()
            .map(|r| (r.name.clone(), r.accounting))
            .collect()
    }
    fn resumed(&self) -> Vec<(String, u64, u64)> {
        self.readings
            .iter()
            .filter_map(|r| {
                let (line, counts) = r.resumed?;
                Some((
                    r.name.clone(),
                    line,
                    r.accounting.read.saturating_sub(counts.read),
                ))
            })
            .collect()
    }
    fn error(&self) -> Option<&str> {
        self.readings.iter().find_map(|r| r.error.as_deref())
    }
    fn nothing_accepted(&self) -> Option<(&str, &'static str, Option<&'static str>)> {
        self.readings
            .iter()
            .find(|r| r.accounting.read > 0 && r.accounting.accepted == 0)
            .map(|r| (r.name.as_str(), r.record, r.looks_like))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::input::records::UserBehavior;

    /// The rows that anchor the guard are the first valid rows of the input, whatever the runs of
    /// lines it came in: bad, blank, too-long and out-of-range lines are skipped, and only lines
    /// that start in the first `ANCHOR_BYTES` count.
    #[test]
    fn the_anchor_rows_do_not_depend_on_the_runs() {
        let mut text = String::new();
        for i in 0..3000u64 {
            match i % 7 {
                0 => text.push_str("not a row\n"),
                1 => text.push('\n'),
                2 => text.push_str(&format!(
                    "1,2,3,pv,{}{}\n",
                    1_511_658_000 + i,
                    " ".repeat(90)
                )),
                3 => text.push_str("1,2,3,pv,999999999999999\n"),
                _ => text.push_str(&format!("1,2,3,pv,{}\n", 1_511_658_000 + i)),
            }
        }
        let whole = {
            let mut held = Held::default();
            held.add::<UserBehavior>(text.as_bytes(), 80);
            held
        };
        assert_eq!(whole.times.len(), ANCHOR_ROWS);
        assert!(whole.anchors());
        assert_eq!(whole.times[0], 1_511_658_004_000);
        for cut in [1, 30, 100, 4096] {
            let mut held = Held::default();
            let mut rest = text.as_bytes();
            while !rest.is_empty() && !held.anchors() {
                let end = rest.len().min(cut);
                let end = memchr::memchr(b'\n', &rest[end - 1..]).map_or(rest.len(), |i| end + i);
                held.add::<UserBehavior>(&rest[..end], 80);
                rest = &rest[end..];
            }
            assert_eq!(held.times, whole.times, "runs of {cut} bytes");
        }
        // Past `ANCHOR_BYTES`, no row anchors, and nothing more is held.
        let mut held = Held::default();
        held.too_long(b"x...".to_vec(), ANCHOR_BYTES - 10);
        held.add::<UserBehavior>(b"1,2,3,pv,1511658000\n1,2,3,pv,1511658001\n", 80);
        assert_eq!(held.times, [1_511_658_000_000]);
        assert!(held.anchors());
    }

    /// Shares cut at line ends give the lines, numbers and offsets of one pass, whatever falls
    /// at a cut: blank lines, CRLF and lone `\r` lines, bad rows, a last line without `\n`.
    #[test]
    fn parsing_in_shares_gives_what_one_pass_gives() {
        let text = "1,2,3,pv,1511658000\n\n\r\n2,2,3,buy,1511658001\r\nnot a row\n\n\n3,4,5,cart,1511658002\n4,4,5,fav,x\r\n\n5,6,7,pv,1511658003";
        let one: Vec<_> = parse_lines::<UserBehavior>(text.as_bytes(), 1)
            .into_iter()
            .map(|(line, start, r)| (line, start, format!("{r:?}")))
            .collect();
        assert_eq!(
            one.iter().map(|(line, _, _)| *line).collect::<Vec<_>>(),
            [1, 4, 5, 8, 9, 11]
        );
        for threads in 2..=12 {
            let shared: Vec<_> = parse_lines::<UserBehavior>(text.as_bytes(), threads)
                .into_iter()
                .map(|(line, start, r)| (line, start, format!("{r:?}")))
                .collect();
            assert_eq!(shared, one, "{threads} threads");
        }
    }
}
