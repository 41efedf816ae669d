//! Where each input can be read again from: the checkpoints a table commits with its results, so
//! that `--resume` replays only the job's horizon, not the inputs' history.
//!
//! A reader takes a checkpoint after each batch of lines: its input's position, the line number,
//! the highest event time accepted so far, and its accounting (the stage that reads defines
//! them; here they are opaque text). Every line before a checkpoint carries an event time at
//! most that highest time `m`. A job declares its *horizon* `H`: its results at logical times
//! after `T` depend only on the lines whose event times are after `T - H` (a window's span plus
//! its allowed lateness; a state machine's retention). So a table that commits time `T` may
//! record, for every input, the latest checkpoint with `m <= T - H`: a replay from there,
//! with the reader's state as it was, rebuilds every result after `T` exactly as an
//! uninterrupted run does; what it computes for times up to `T` is not committed again. Any
//! earlier checkpoint would do as well (it only replays more), which is why checkpoints that
//! arrive late from another process, or not at all, cost time, never correctness.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

/// One checkpoint of one input: the highest event time before it (`None` before the first
/// accepted line: always eligible), its line number (checkpoints are kept in line order), and
/// the reader's state as text.
#[derive(Clone, Debug)]
struct Entry {
    max_ts: Option<u64>,
    line: u64,
    state: String,
}

#[derive(Default)]
struct Registry {
    /// The job's horizon; `None`: the job declared none, and a resume replays from the start.
    horizon: Option<u64>,
    /// Per input (a key that names the process, the input and the file), its checkpoints since
    /// the latest one that a commit could use.
    inputs: BTreeMap<String, VecDeque<Entry>>,
    /// Checkpoints of this process to tell the process that writes the table.
    outbox: Option<Vec<(String, Option<u64>, u64, String)>>,
    /// The checkpoints the run being resumed committed, by key.
    resumed: BTreeMap<String, String>,
}

static REGISTRY: Mutex<Option<Registry>> = Mutex::new(None);

fn with<T>(f: impl FnOnce(&mut Registry) -> T) -> T {
    let mut registry = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
    f(registry.get_or_insert_with(Registry::default))
}

/// The job's horizon in milliseconds of event time (see the module's documentation); a job that
/// declares none is resumed from the start of its inputs.
pub fn set_horizon(horizon: Option<u64>) {
    with(|r| r.horizon = horizon);
}

pub fn horizon() -> Option<u64> {
    with(|r| r.horizon)
}

/// This process does not write the table: its checkpoints are kept for [`outbox`] as well.
pub fn relay() {
    with(|r| r.outbox = Some(Vec::new()));
}

/// Records a checkpoint of input `key`.
pub fn record(key: &str, max_ts: Option<u64>, line: u64, state: String) {
    with(|r| {
        if let Some(outbox) = &mut r.outbox {
            outbox.push((key.to_owned(), max_ts, line, state.clone()));
        }
        let entries = r.inputs.entry(key.to_owned()).or_default();
        let at = entries.partition_point(|e| e.line <= line);
        entries.insert(
            at,
            Entry {
                max_ts,
                line,
                state,
            },
        );
        // Bounded: with thousands waiting, the commits are far behind; keep every other one.
        if entries.len() > 4096 {
            let kept: VecDeque<Entry> = entries
                .iter()
                .enumerate()
                .filter(|(i, _)| i % 2 == 0 || *i + 1 == entries.len())
                .map(|(_, e)| e.clone())
                .collect();
            *entries = kept;
        }
    });
}

/// The checkpoints recorded since the last call, for a process that relays them.
pub fn outbox() -> Vec<(String, Option<u64>, u64, String)> {
    with(|r| r.outbox.as_mut().map(std::mem::take).unwrap_or_default())
}

/// The checkpoints a commit of logical time `committed` records, as JSON (key -> state): for
/// each input the latest whose lines before it all lie at or before `committed - horizon`.
/// Empty when the job has no horizon. Entries older than the ones chosen are dropped: later
/// commits choose the same or later ones.
pub fn eligible(committed: u64) -> String {
    with(|r| {
        let Some(horizon) = r.horizon else {
            return String::new();
        };
        let bound = committed.checked_sub(horizon);
        let mut chosen = serde_json::Map::new();
        for (key, entries) in &mut r.inputs {
            let fits = |e: &Entry| e.max_ts.is_none_or(|m| bound.is_some_and(|b| m <= b));
            let Some(last) = entries.iter().rposition(fits) else {
                continue;
            };
            entries.drain(..last);
            chosen.insert(
                key.clone(),
                serde_json::Value::String(entries[0].state.clone()),
            );
        }
        serde_json::Value::Object(chosen).to_string()
    })
}

/// The checkpoints of the run being resumed (as [`eligible`] wrote them).
pub fn set_resumed(json: &str) -> Result<(), String> {
    let map: BTreeMap<String, String> = if json.is_empty() {
        BTreeMap::new()
    } else {
        serde_json::from_str(json)
            .map_err(|e| format!("the progress row's input positions cannot be read: {e}"))?
    };
    with(|r| r.resumed = map);
    Ok(())
}

/// The checkpoint input `key` resumes from, if the resumed run committed one.
pub fn resumed(key: &str) -> Option<String> {
    with(|r| r.resumed.get(key).cloned())
}

/// Every checkpoint the resumed run committed, as JSON, to hand to the other processes.
pub fn resumed_json() -> String {
    with(|r| serde_json::to_string(&r.resumed).expect("a map of strings"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commit_takes_the_latest_checkpoint_behind_its_horizon() {
        set_horizon(Some(100));
        record("a", None, 1, "start".into());
        record("a", Some(150), 10, "at 150".into());
        record("a", Some(300), 30, "at 300".into());
        record("a", Some(200), 20, "at 200".into());
        let chosen = |t| -> serde_json::Value { serde_json::from_str(&eligible(t)).unwrap() };
        assert_eq!(chosen(50)["a"], "start");
        assert_eq!(chosen(260)["a"], "at 150");
        assert_eq!(chosen(300)["a"], "at 200");
        // Commits only move on: the older entries are gone.
        assert_eq!(chosen(400)["a"], "at 300");
        set_horizon(None);
        assert_eq!(eligible(1000), "");
    }
}
