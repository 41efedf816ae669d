//! The run's metrics, as `/metrics` serves them (`--http`, served by `http.rs`): what a person who
//! watches a running job asks of it (how much was read, how far event time has come, how far
//! behind the wall clock, what was written and committed, how busy the workers are, how much
//! state they hold, how much memory), named in the Prometheus conventions: `uba_` prefix, base
//! units, counters ending in `_total`, and only low-cardinality labels (job and process on every
//! metric; input, worker, sink where they apply), never a key of the data.
//!
//! The stages only add to counters that [`prometheus_client`] keeps as atomics: once per batch
//! (the inputs), per row (the output) or per commit (a table), never per line, never a lock; the
//! handles are looked up once, when an input or a table opens. The server reads them when it is
//! scraped, and computes there what depends on the moment (the watermark's lag, the memory).
//! Like the progress line, the metrics are per process: in a cluster, process 0 serves them.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

/// A metric's own labels (input, worker, sink): one or two pairs.
type Labels = Vec<(&'static str, String)>;
type FloatGauge = Gauge<f64, AtomicU64>;
type Seconds = Counter<f64, AtomicU64>;

/// The durations of commits: 0.5 ms to 8 s, by factors of 4.
fn commit_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 4.0, 8))
}

struct Metrics {
    records: Family<Labels, Counter>,
    bytes: Family<Labels, Counter>,
    corrections: Family<Labels, Counter>,
    input_watermark: Family<Labels, FloatGauge>,
    watermark: FloatGauge,
    lag: FloatGauge,
    rows: Counter,
    commits: Family<Labels, Counter>,
    commit_duration: Family<Labels, Histogram, fn() -> Histogram>,
    committed_time: Family<Labels, FloatGauge>,
    busy: Family<Labels, Seconds>,
    idle: Family<Labels, Seconds>,
    arranged: Family<Labels, Gauge<i64, AtomicI64>>,
    rss: Gauge<i64, AtomicI64>,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| Metrics {
    records: Family::default(),
    bytes: Family::default(),
    corrections: Family::default(),
    input_watermark: Family::default(),
    watermark: Gauge::default(),
    lag: Gauge::default(),
    rows: Counter::default(),
    commits: Family::default(),
    commit_duration: Family::new_with_constructor(commit_buckets),
    committed_time: Family::default(),
    busy: Family::default(),
    idle: Family::default(),
    arranged: Family::default(),
    rss: Gauge::default(),
});

/// The job's name: a label of every metric.
static JOB: OnceLock<String> = OnceLock::new();
/// This process's index in the cluster: a label of every metric.
static PROCESS: AtomicU64 = AtomicU64::new(0);

/// Names the job (`hot-items`), for the labels; the first call wins.
pub fn set_job(job: &str) {
    let _ = JOB.set(job.to_owned());
}

/// This process's index in its cluster, for the labels.
pub fn set_process(process: usize) {
    PROCESS.store(process as u64, Ordering::Relaxed);
}

/// The job's name, as [`set_job`] gave it.
pub fn job() -> &'static str {
    JOB.get().map_or("uba", String::as_str)
}

/// Where one input file stands: the counts its reader has decided so far, in its line order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InputCounts {
    pub accepted: u64,
    pub rejected: u64,
    pub late: u64,
    pub filtered: u64,
    pub corrections: u64,
    pub bytes: u64,
    /// The input's watermark, epoch ms (0: none yet).
    pub watermark: u64,
}

/// One input file's handles, held by the worker that feeds it; the last counts it published, so
/// that each update adds only the difference.
pub struct InputMetrics {
    name: String,
    outcomes: [Counter; 4],
    bytes: Counter,
    corrections: Counter,
    watermark: FloatGauge,
    last: InputCounts,
}

/// The inputs opened so far, for the live page.
static INPUTS: Mutex<Vec<(String, InputCounts)>> = Mutex::new(Vec::new());

impl InputMetrics {
    /// The handles of input `name` (a file's path, or `stdin`).
    pub fn new(name: &str) -> Self {
        let m = &*METRICS;
        let input = || vec![("input", name.to_owned())];
        let outcome = |o: &str| {
            m.records
                .get_or_create(&vec![("input", name.to_owned()), ("outcome", o.to_owned())])
                .clone()
        };
        lock(&INPUTS).push((name.to_owned(), InputCounts::default()));
        InputMetrics {
            name: name.to_owned(),
            outcomes: ["accepted", "rejected", "late", "filtered"].map(outcome),
            bytes: m.bytes.get_or_create(&input()).clone(),
            corrections: m.corrections.get_or_create(&input()).clone(),
            watermark: m.input_watermark.get_or_create(&input()).clone(),
            last: InputCounts::default(),
        }
    }

    /// The reader's counts now (they only grow).
    pub fn update(&mut self, now: InputCounts) {
        let last = self.last;
        let pairs = [
            (now.accepted, last.accepted),
            (now.rejected, last.rejected),
            (now.late, last.late),
            (now.filtered, last.filtered),
        ];
        for (counter, (now, last)) in self.outcomes.iter().zip(pairs) {
            counter.inc_by(now.saturating_sub(last));
        }
        self.bytes.inc_by(now.bytes.saturating_sub(last.bytes));
        self.corrections
            .inc_by(now.corrections.saturating_sub(last.corrections));
        if now.watermark > 0 {
            self.watermark.set(now.watermark as f64 / 1000.0);
        }
        self.last = now;
        if let Some(entry) = lock(&INPUTS).iter_mut().find(|(n, _)| *n == self.name) {
            entry.1 = now;
        }
    }
}

/// Every input's name and counts, as last updated.
pub fn inputs() -> Vec<(String, InputCounts)> {
    lock(&INPUTS).clone()
}

/// One result row was emitted.
pub fn row_emitted() {
    METRICS.rows.inc();
}

/// The rows emitted so far.
pub fn rows_emitted() -> u64 {
    METRICS.rows.get()
}

/// Table `sink` committed the results up to `time` (epoch ms) in a transaction of `took`.
pub fn committed(sink: &str, took: Duration, time: u64) {
    let labels = vec![("sink", sink.to_owned())];
    METRICS.commits.get_or_create(&labels).inc();
    METRICS
        .commit_duration
        .get_or_create(&labels)
        .observe(took.as_secs_f64());
    if time != u64::MAX {
        METRICS
            .committed_time
            .get_or_create(&labels)
            .set(time as f64 / 1000.0);
    }
}

/// One worker's handles for what timely's and differential's logs tell (`introspection.rs`).
pub struct WorkerMetrics {
    pub busy: Seconds,
    pub idle: Seconds,
    pub arranged: Gauge<i64, AtomicI64>,
}

/// The handles of worker `index` (its global index).
pub fn worker(index: usize) -> WorkerMetrics {
    let labels = vec![("worker", index.to_string())];
    WorkerMetrics {
        busy: METRICS.busy.get_or_create(&labels).clone(),
        idle: METRICS.idle.get_or_create(&labels).clone(),
        arranged: METRICS.arranged.get_or_create(&labels).clone(),
    }
}

/// The metrics in the text format of OpenMetrics (which Prometheus reads), as they stand now.
pub fn encode() -> String {
    let m = &*METRICS;
    let watermark = super::progress::job_watermark();
    if watermark > 0 {
        m.watermark.set(watermark as f64 / 1000.0);
        m.lag
            .set(wall_ms().saturating_sub(watermark) as f64 / 1000.0);
    }
    if let Some(rss) = super::progress::resident_bytes() {
        m.rss.set(rss as i64);
    }
    let process = PROCESS.load(Ordering::Relaxed);
    let mut r = Registry::with_prefix_and_labels(
        "uba",
        [
            ("job".into(), job().into()),
            ("process".into(), process.to_string().into()),
        ]
        .into_iter(),
    );
    r.register(
        "records",
        "Input lines decided per input and outcome (accepted, rejected, late, filtered)",
        m.records.clone(),
    );
    r.register_with_unit(
        "input_read",
        "Bytes read per input",
        Unit::Bytes,
        m.bytes.clone(),
    );
    r.register(
        "corrections",
        "Late records that corrected a result already written, per input",
        m.corrections.clone(),
    );
    r.register_with_unit(
        "input_watermark",
        "Each input's watermark, in event time (seconds since the epoch)",
        Unit::Seconds,
        m.input_watermark.clone(),
    );
    r.register_with_unit(
        "watermark",
        "The job's watermark, the least of its inputs', in event time (seconds since the epoch)",
        Unit::Seconds,
        m.watermark.clone(),
    );
    r.register_with_unit(
        "watermark_lag",
        "How far the job's watermark is behind the wall clock",
        Unit::Seconds,
        m.lag.clone(),
    );
    r.register(
        "rows_emitted",
        "Result rows written (first results and corrections)",
        m.rows.clone(),
    );
    r.register(
        "sink_commits",
        "Transactions committed to a --sink table",
        m.commits.clone(),
    );
    r.register_with_unit(
        "sink_commit_duration",
        "How long a --sink transaction took",
        Unit::Seconds,
        m.commit_duration.clone(),
    );
    r.register_with_unit(
        "sink_last_committed_time",
        "The last time committed to a --sink table, in event time (seconds since the epoch)",
        Unit::Seconds,
        m.committed_time.clone(),
    );
    r.register_with_unit(
        "worker_busy",
        "Time each worker spent in the dataflow's operators (timely's schedule events)",
        Unit::Seconds,
        m.busy.clone(),
    );
    r.register_with_unit(
        "worker_idle",
        "Time each worker spent outside the dataflow's operators: feeding inputs, waiting",
        Unit::Seconds,
        m.idle.clone(),
    );
    r.register(
        "arrangement_updates",
        "Updates held in each worker's arrangements (differential's batch, merge, drop events)",
        m.arranged.clone(),
    );
    r.register_with_unit(
        "process_resident_memory",
        "This process's resident memory",
        Unit::Bytes,
        m.rss.clone(),
    );
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &r)
        .expect("writing to a String cannot fail");
    text
}

/// Milliseconds since the epoch on the wall clock.
pub fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
