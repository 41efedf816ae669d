//! A Kafka topic as an input (`kafka://HOST:PORT/TOPIC`), and a producer that fills one.
//!
//! Every partition of the topic is a [`Source`] of its own: a file of the input, with its own
//! watermark and accounting line, whose bytes are the values of its records, each followed by a
//! newline. A record is one line whatever it holds: a newline or carriage return inside a value
//! becomes a space, so a value that is not one valid line is rejected as one line. Its line
//! number is its offset + 1 (offsets of a topic that is not compacted nor transactional have no
//! gaps): a rejected record is found again at `kafka://HOST:PORT/TOPIC/PARTITION`, offset
//! `line - 1`.
//!
//! The reader of an input ([`source`](super::source)) needs no change for it, as for a followed
//! file ([`follow`](super::follow)): a partition is a [`Read`] that fetches the next records
//! when its bytes are taken, and waits for more at the end of what the broker holds, until the
//! run is stopped (Ctrl-C, SIGTERM) or, with `--until-end`, until the end offset that the broker
//! had when the run began. uba keeps the offsets itself (a partition's [`Position`] is its next
//! offset), so no consumer group is used.
//!
//! The client, `rskafka`, is async: the partitions' reader threads block on a tokio runtime of
//! one thread, which runs the connections; nothing else in uba knows of async.
//!
//! Tansu, the broker of the tests, answers a ListOffsets "latest" wrongly when a batch holds
//! several records: the end offset is taken from the high watermark that a Fetch returns. A
//! fetch that waits 0 ms returns nothing on it: fetches wait [`FETCH_WAIT_MS`].

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

use rskafka::BackoffConfig;
use rskafka::client::partition::{Compression, OffsetAt, PartitionClient, UnknownTopicHandling};
use rskafka::client::{Client, ClientBuilder};
use rskafka::record::Record;
use tokio::runtime::Runtime;

use crate::engine::input::source::{Input, Position, Source};
use crate::engine::status::stop;

/// How long a fetch waits at the end of a partition for records to come: short enough for a
/// stop to be heard at once, and never 0 (Tansu then answers nothing).
const FETCH_WAIT_MS: i32 = 50;

/// The most bytes of records one fetch asks for.
const FETCH_BYTES: i32 = 4 << 20;

/// How long the client retries a request before it says the broker is lost: at the start, the
/// time it takes to say that a broker is down; while reading, the time before the line that says
/// it is away.
const DEADLINE: Duration = Duration::from_secs(2);

/// The longest wait between two tries to reach a lost broker.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// The most bytes of records one produce request carries.
const PRODUCE_BYTES: usize = 1 << 20;

/// Whether an input path names a Kafka topic.
pub fn is_url(path: &str) -> bool {
    path.starts_with("kafka://")
}

/// A topic's address: `kafka://HOST:PORT/TOPIC`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    pub broker: String,
    pub topic: String,
}

impl Address {
    pub fn parse(url: &str) -> Result<Address, String> {
        let wrong = || format!("'{url}' is not a Kafka topic's address: kafka://HOST:PORT/TOPIC");
        let rest = url.strip_prefix("kafka://").ok_or_else(wrong)?;
        let (broker, topic) = rest.split_once('/').ok_or_else(wrong)?;
        let port_ok = broker
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
        let topic_ok = !topic.is_empty()
            && topic
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if !port_ok || !topic_ok {
            return Err(wrong());
        }
        Ok(Address {
            broker: broker.to_owned(),
            topic: topic.to_owned(),
        })
    }

    fn url(&self) -> String {
        format!("kafka://{}/{}", self.broker, self.topic)
    }

    /// A client of the broker, and the topic's partitions, in order: one sentence naming the
    /// address when the broker cannot be reached, or the topics it has when it has not this one.
    fn connect(&self, runtime: &Runtime) -> Result<(Client, Vec<i32>), String> {
        runtime.block_on(async {
            let unreachable = |e: rskafka::client::error::Error| -> String {
                format!(
                    "cannot reach the Kafka broker at {} (is it running?): {}",
                    self.broker,
                    cause(&e)
                )
            };
            let client = client(&self.broker).await.map_err(unreachable)?;
            let topics = client.list_topics().await.map_err(unreachable)?;
            match topics.iter().find(|t| t.name == self.topic) {
                Some(topic) if !topic.partitions.is_empty() => {
                    Ok((client, topic.partitions.iter().copied().collect()))
                }
                _ => {
                    let mut names: Vec<&str> = topics.iter().map(|t| t.name.as_str()).collect();
                    names.sort_unstable();
                    Err(format!(
                        "the Kafka broker at {} has no topic '{}' (its topics: {})",
                        self.broker,
                        self.topic,
                        if names.is_empty() {
                            "none".to_owned()
                        } else {
                            names.join(", ")
                        }
                    ))
                }
            }
        })
    }
}

async fn client(broker: &str) -> Result<Client, rskafka::client::error::Error> {
    ClientBuilder::new(vec![broker.to_owned()])
        .backoff_config(BackoffConfig {
            init_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_millis(500),
            base: 2.0,
            deadline: Some(DEADLINE),
        })
        .build()
        .await
}

/// What went wrong at the bottom of an error of the client: the words a user can act on
/// ("Connection refused"), not the layers of retries above them.
fn cause(error: &dyn std::error::Error) -> String {
    let mut error = error;
    while let Some(source) = error.source() {
        error = source;
    }
    error.to_string()
}

/// The runtime the client's connections run on, shared by the partitions of a topic: one
/// thread of its own, so that a connection's tasks go on whichever reader thread waits (with a
/// current-thread runtime shared by two readers, only the one that drives it moved, and a lost
/// connection could go unseen by the other).
fn runtime() -> Result<Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("uba-kafka")
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the Kafka client: {e}"))
}

/// How a partition's position names it.
fn identity(partition: i32) -> String {
    format!("partition {partition}")
}

/// Opens the partitions of topic `url` that this process reads, as the files of one input:
/// partition `i` is read by process `i % processes` of `share = (process, processes)`. Each
/// starts at the earliest offset the broker holds (a resumed run moves it to its position:
/// [`Input::resume_at`]); with `until_end` it ends at the high watermark seen now, else it is
/// read until the run is stopped.
pub fn open(url: &str, until_end: bool, share: (usize, usize)) -> Result<Vec<Source>, String> {
    let address = Address::parse(url)?;
    let runtime = Arc::new(runtime()?);
    let (client, partitions) = address.connect(&runtime)?;
    let (process, processes) = share;
    partitions
        .into_iter()
        .filter(|p| *p as usize % processes.max(1) == process)
        .map(|partition| {
            let name = format!("{}/{partition}", address.url());
            let lost = |e: rskafka::client::error::Error| {
                format!(
                    "cannot read {name} from the broker at {}: {}",
                    address.broker,
                    cause(&e)
                )
            };
            let (client, earliest, high) = runtime.block_on(async {
                let client = client
                    .partition_client(&address.topic, partition, UnknownTopicHandling::Error)
                    .await
                    .map_err(lost)?;
                let earliest = client.get_offset(OffsetAt::Earliest).await.map_err(lost)?;
                let (_, high) = client
                    .fetch_records(earliest, 1..1024, FETCH_WAIT_MS)
                    .await
                    .map_err(lost)?;
                Ok::<_, String>((client, earliest, high))
            })?;
            Ok(Source {
                name: name.clone(),
                reader: Box::new(Partition {
                    name,
                    broker: address.broker.clone(),
                    runtime: runtime.clone(),
                    client,
                    partition,
                    next: earliest,
                    held: (earliest, high),
                    end: until_end.then_some(high),
                    pending: Vec::new(),
                    taken: 0,
                    total: 0,
                    ends: VecDeque::new(),
                    consumed_next: earliest,
                }),
                size: None,
                index: Some(partition as u32),
            })
        })
        .collect()
}

/// One partition as an input's bytes.
struct Partition {
    name: String,
    broker: String,
    runtime: Arc<Runtime>,
    client: PartitionClient,
    partition: i32,
    /// The offset of the next record to fetch.
    next: i64,
    /// The offsets the broker held at the start: from the earliest to the high watermark.
    held: (i64, i64),
    /// With `--until-end`, the offset at which it ends.
    end: Option<i64>,
    /// Lines fetched and not yet read, from `taken` on.
    pending: Vec<u8>,
    taken: usize,
    /// Bytes handed out in all; and, per record handed out and not yet covered by a position,
    /// the byte count at the end of its line and the offset after it.
    total: u64,
    ends: VecDeque<(u64, i64)>,
    /// The offset after the records covered by the last position asked for.
    consumed_next: i64,
}

impl Partition {
    /// Fetches the next records into `pending`; retries while the broker is away, saying so on
    /// stderr once, and goes on from the same offset. Returns false at the end (a stop, or the
    /// end offset of `--until-end`).
    fn fetch(&mut self) -> bool {
        let mut backoff = Duration::from_millis(100);
        let mut away = false;
        loop {
            if self.end.is_some_and(|end| self.next >= end) || stop::inputs_ended() {
                return false;
            }
            // A connection whose broker went away may never answer: a fetch that takes longer
            // than the broker's wait and [`DEADLINE`] counts as lost, and is asked again.
            let fetched = self.runtime.block_on(async {
                let fetch = self
                    .client
                    .fetch_records(self.next, 1..FETCH_BYTES, FETCH_WAIT_MS);
                match tokio::time::timeout(DEADLINE, fetch).await {
                    Ok(answer) => answer.map_err(|e| cause(&e)),
                    Err(_) => Err(format!("no answer in {} s", DEADLINE.as_secs())),
                }
            });
            match fetched {
                Ok((records, _)) => {
                    if away {
                        crate::engine::status::progress::eprint_line(&format!(
                            "uba: {}: the broker at {} is back, reading on from offset {}",
                            self.name, self.broker, self.next
                        ));
                    }
                    let mut any = false;
                    for record in records {
                        if record.offset < self.next
                            || self.end.is_some_and(|end| record.offset >= end)
                        {
                            continue;
                        }
                        any = true;
                        let value = record.record.value.unwrap_or_default();
                        let start = self.pending.len();
                        self.pending.extend_from_slice(&value);
                        for b in &mut self.pending[start..] {
                            if *b == b'\n' || *b == b'\r' {
                                *b = b' ';
                            }
                        }
                        self.pending.push(b'\n');
                        self.next = record.offset + 1;
                        self.ends.push_back((
                            self.total + (self.pending.len() - self.taken) as u64,
                            self.next,
                        ));
                    }
                    if any {
                        return true;
                    }
                    away = false;
                }
                Err(e) => {
                    if !away {
                        crate::engine::status::progress::eprint_line(&format!(
                            "uba: {}: the broker at {} is lost ({}); retrying, from offset {}",
                            self.name, self.broker, e, self.next
                        ));
                        away = true;
                    }
                    // Waits in short steps, so that a stop is heard.
                    let until = std::time::Instant::now() + backoff;
                    while std::time::Instant::now() < until && !stop::inputs_ended() {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }
}

impl Read for Partition {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.taken == self.pending.len() {
            self.pending.clear();
            self.taken = 0;
            if !self.fetch() {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.pending.len() - self.taken);
        buf[..n].copy_from_slice(&self.pending[self.taken..self.taken + n]);
        self.taken += n;
        self.total += n as u64;
        Ok(n)
    }
}

impl Input for Partition {
    fn position(&mut self, consumed: u64) -> Option<Position> {
        while let Some(&(end, next)) = self.ends.front()
            && end <= consumed
        {
            self.consumed_next = next;
            self.ends.pop_front();
        }
        Some(Position {
            identity: identity(self.partition),
            offset: self.consumed_next as u64,
        })
    }

    /// A resumed run reads on from the offset its checkpoint names, which the broker must still
    /// hold (retention may have deleted it): else one sentence, rather than a silent gap.
    fn resume_at(&mut self, position: &Position) -> Result<(), String> {
        if position.identity != identity(self.partition) {
            return Err(format!(
                "its checkpoint names {}, not {}",
                position.identity,
                identity(self.partition)
            ));
        }
        let offset = i64::try_from(position.offset).unwrap_or(i64::MAX);
        let (earliest, high) = self.held;
        if offset < earliest || offset > high {
            return Err(format!(
                "the broker holds offsets {earliest} to {high} of it now: the records to resume from are gone"
            ));
        }
        self.next = offset;
        self.consumed_next = offset;
        Ok(())
    }
}

/// Writes lines into a topic: every whole line written is one record (its value, no key), line
/// `i` (counted from 0 over all that is written) going to the `i % P`-th of the topic's `P`
/// partitions, so that what each partition holds is a function of the lines alone. A last line
/// without a newline is sent at [`Producer::finish`].
pub struct Producer {
    runtime: Runtime,
    partitions: Vec<PartitionClient>,
    /// Bytes written and not yet cut into lines.
    unsent: Vec<u8>,
    /// Lines sent so far.
    lines: u64,
}

impl Producer {
    pub fn open(url: &str) -> Result<Producer, String> {
        let address = Address::parse(url)?;
        let runtime = runtime()?;
        let (client, numbers) = address.connect(&runtime)?;
        let partitions = runtime.block_on(async {
            let mut partitions = Vec::new();
            for partition in numbers {
                partitions.push(
                    client
                        .partition_client(&address.topic, partition, UnknownTopicHandling::Error)
                        .await
                        .map_err(|e| {
                            format!("cannot write to {}/{partition}: {e}", address.url())
                        })?,
                );
            }
            Ok::<_, String>(partitions)
        })?;
        Ok(Producer {
            runtime,
            partitions,
            unsent: Vec::new(),
            lines: 0,
        })
    }

    /// The lines sent so far.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Sends the whole lines of `unsent`, and the rest too where `all`.
    fn send(&mut self, all: bool) -> std::io::Result<()> {
        let complete = if all {
            self.unsent.len()
        } else {
            memchr::memrchr(b'\n', &self.unsent).map_or(0, |i| i + 1)
        };
        if complete == 0 {
            return Ok(());
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let timestamp = chrono::DateTime::from_timestamp_millis(now).unwrap_or_default();
        let count = self.partitions.len() as u64;
        let mut batches: Vec<Vec<Record>> = vec![Vec::new(); self.partitions.len()];
        let mut sizes = vec![0usize; self.partitions.len()];
        let text = &self.unsent[..complete];
        let text = text.strip_suffix(b"\n").unwrap_or(text);
        let mut requests = Vec::new();
        for line in text.split(|b| *b == b'\n') {
            let p = (self.lines % count) as usize;
            self.lines += 1;
            sizes[p] += line.len() + 16;
            batches[p].push(Record {
                key: None,
                value: Some(line.to_vec()),
                headers: Default::default(),
                timestamp,
            });
            if sizes[p] >= PRODUCE_BYTES {
                requests.push((p, std::mem::take(&mut batches[p])));
                sizes[p] = 0;
            }
        }
        requests.extend(batches.into_iter().enumerate());
        self.unsent.drain(..complete);
        let partitions = &self.partitions;
        self.runtime.block_on(async {
            for (p, records) in requests {
                partitions[p]
                    .produce(records, Compression::NoCompression)
                    .await
                    .map_err(|e| {
                        std::io::Error::other(format!(
                            "partition {}: {}",
                            partitions[p].partition(),
                            cause(&e)
                        ))
                    })?;
            }
            Ok(())
        })
    }

    /// Sends what is left, a last line without a newline included.
    pub fn finish(&mut self) -> std::io::Result<()> {
        self.send(true)
    }
}

impl Write for Producer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.unsent.extend_from_slice(buf);
        if self.unsent.len() >= PRODUCE_BYTES {
            self.send(false)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(
            Address::parse("kafka://127.0.0.1:9092/hotitems"),
            Ok(Address {
                broker: "127.0.0.1:9092".into(),
                topic: "hotitems".into()
            })
        );
        for wrong in [
            "kafka://127.0.0.1/t",
            "kafka://127.0.0.1:9092/",
            "kafka://127.0.0.1:9092",
            "kafka://:9092/t",
            "kafka://h:9092/a/b",
        ] {
            assert!(Address::parse(wrong).is_err(), "{wrong}");
        }
    }
}
