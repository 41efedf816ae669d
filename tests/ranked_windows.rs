//! `engine::operators::ranked_windows::rank_per_window` and, without allowed lateness,
//! `engine::operators::sliding_top::sliding_top` against the windowed contract, computed naively:
//! at every time `T`, the accumulated output holds, for each window with `end - 1 <= T < end + A`,
//! the ranked counts of the updates of its panes at times `<= T`, and nothing else. Random pane
//! updates (on time, early, late, some deletions), for top N and for all keys, on 1 to 3 workers.

mod common;

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use common::mutate::Rng;
use differential_dataflow::consolidation::consolidate;
use differential_dataflow::input::Input;
use timely::dataflow::operators::Inspect;
use uba::engine::operators::ranked_windows::rank_per_window;
use uba::engine::operators::sliding_top::sliding_top;
use uba::engine::time::windows::Windows;

type Row = (u64, (Reverse<isize>, u64));

/// The operator under test.
#[derive(Clone, Copy, Debug)]
enum Operator {
    /// `rank_per_window`: any allowed lateness, top N or all keys.
    PerWindow,
    /// `sliding_top`: no allowed lateness, top N only.
    Sliding,
}

/// `n` updates `((key, pane), time, diff)` of keys below `keys`, small keys more often (as
/// popular items), sorted by time.
fn updates(seed: u64, n: usize, keys: usize, deletions: bool) -> Vec<((u64, u64), u64, isize)> {
    let mut rng = Rng::from_state(seed);
    let mut next = |below| rng.below(below) as u64;
    let mut out: Vec<_> = (0..n)
        .map(|_| {
            let pane = next(30);
            // From the pane's start to well after its last window's purge.
            let t = pane * 10 + next(90);
            let key = next(keys).min(next(keys));
            let diff = if deletions && next(6) == 0 {
                -1
            } else {
                1 + next(3) as isize
            };
            ((key, pane), t, diff)
        })
        .collect();
    out.sort_by_key(|u| u.1);
    out
}

/// The ends of the windows that hold pane `pane` (of `slide` ms, from `pane * slide`), earliest
/// first: the `size / slide` windows ending at `(pane + 1) * slide + i * slide`. Written here from
/// the contract, as `src/engine/time/windows.rs` means it (`Windows::ends_of_pane`), not called.
fn ends_of_pane(windows: Windows, pane: u64) -> Vec<u64> {
    let first = (pane + 1) * windows.slide;
    (0..windows.size / windows.slide)
        .map(|i| first + i * windows.slide)
        .collect()
}

/// The collection the contract prescribes at time `at`.
fn expected(
    updates: &[((u64, u64), u64, isize)],
    windows: Windows,
    top: Option<usize>,
    at: u64,
) -> Vec<Row> {
    let mut counts: BTreeMap<u64, HashMap<u64, isize>> = BTreeMap::new();
    for &((key, pane), t, diff) in updates {
        if t > at {
            continue;
        }
        for end in ends_of_pane(windows, pane) {
            // A window is in the output from its last instant until its allowed lateness has
            // passed (from `end + lateness` on, as `Windows::purge_time`, a change is its purge).
            if end - 1 <= at && at < end + windows.lateness {
                *counts.entry(end).or_default().entry(key).or_default() += diff;
            }
        }
    }
    let mut rows = Vec::new();
    for (end, keys) in counts {
        let mut ranked: Vec<_> = keys
            .into_iter()
            .filter(|&(_, c)| c != 0)
            .map(|(k, c)| (Reverse(c), k))
            .collect();
        ranked.sort();
        ranked.truncate(top.unwrap_or(usize::MAX));
        rows.extend(ranked.into_iter().map(|row| (end, row)));
    }
    rows.sort();
    rows
}

/// The output of the operator, as `(row, time, diff)`.
fn run(
    operator: Operator,
    updates: Vec<((u64, u64), u64, isize)>,
    windows: Windows,
    top: Option<usize>,
    workers: usize,
) -> Vec<(Row, u64, isize)> {
    let seen: Arc<Mutex<Vec<(Row, u64, isize)>>> = Arc::default();
    let sink = seen.clone();
    timely::execute(timely::Config::process(workers), move |worker| {
        let sink = sink.clone();
        let mut input = worker.dataflow::<u64, _, _>(|scope| {
            let (input, panes) = scope.new_collection::<(u64, u64), isize>();
            let ranked = match operator {
                Operator::PerWindow => rank_per_window(panes, windows, top, "Test"),
                Operator::Sliding => sliding_top(panes, windows, top.expect("a top N"), "Test"),
            };
            ranked.inner.inspect(move |x| sink.lock().unwrap().push(*x));
            input
        });
        if worker.index() == 0 {
            for &(data, t, diff) in &updates {
                input.advance_to(t);
                input.update(data, diff);
                input.flush();
                worker.step();
            }
        }
    })
    .expect("timely runs");
    Arc::try_unwrap(seen).unwrap().into_inner().unwrap()
}

/// The shape of a check's updates: how many, over how many keys, with deletions or not.
#[derive(Clone, Copy)]
struct Shape {
    n: usize,
    keys: usize,
    deletions: bool,
}

const FEW_KEYS: Shape = Shape {
    n: 400,
    keys: 8,
    deletions: false,
};

fn check(
    operator: Operator,
    seed: u64,
    windows: Windows,
    top: Option<usize>,
    workers: usize,
    shape: Shape,
) {
    let updates = updates(seed, shape.n, shape.keys, shape.deletions);
    let mut output = run(operator, updates.clone(), windows, top, workers);
    output.sort_by_key(|o| o.1);
    let mut times: Vec<u64> = output.iter().map(|o| o.1).collect();
    times.extend(updates.iter().map(|u| u.1));
    times.sort_unstable();
    times.dedup();
    let mut state: Vec<(Row, isize)> = Vec::new();
    let mut next = 0;
    for at in times {
        while next < output.len() && output[next].1 <= at {
            state.push((output[next].0, output[next].2));
            next += 1;
        }
        consolidate(&mut state);
        let got: Vec<Row> = state
            .iter()
            .map(|&(row, diff)| {
                assert_eq!(diff, 1, "seed {seed} at {at}: {row:?} x {diff}");
                row
            })
            .collect();
        assert_eq!(
            got,
            expected(&updates, windows, top, at),
            "{operator:?}: seed {seed}, top {top:?}, -w {workers}, at {at}"
        );
    }
    assert!(state.is_empty(), "seed {seed}: every window is purged");
}

#[test]
fn top_n_follows_the_contract_on_any_number_of_workers() {
    for seed in 0..6 {
        for workers in 1..=3 {
            let windows = Windows::sliding(30, 10, 25);
            check(
                Operator::PerWindow,
                seed,
                windows,
                Some(3),
                workers,
                FEW_KEYS,
            );
        }
    }
}

#[test]
fn all_keys_follow_the_contract() {
    for seed in 0..6 {
        let (windows, workers) = (Windows::sliding(30, 10, 25), 1 + seed as usize % 3);
        check(Operator::PerWindow, seed, windows, None, workers, FEW_KEYS);
    }
}

#[test]
fn deletions_re_rank() {
    let shape = Shape {
        deletions: true,
        ..FEW_KEYS
    };
    for seed in 0..6 {
        let windows = Windows::sliding(30, 10, 25);
        check(Operator::PerWindow, seed, windows, Some(2), 2, shape);
        check(Operator::PerWindow, seed, windows, None, 1, shape);
    }
}

#[test]
fn without_allowed_lateness_and_tumbling() {
    for seed in 0..4 {
        check(
            Operator::PerWindow,
            seed,
            Windows::sliding(30, 10, 0),
            Some(3),
            2,
            FEW_KEYS,
        );
        check(
            Operator::PerWindow,
            seed,
            Windows::tumbling(20, 15),
            Some(1),
            1,
            FEW_KEYS,
        );
    }
}

/// `sliding_top` on few keys (every key a candidate), on more keys than its candidate set holds
/// (the set rebuilt from the whole map as counts leave with their panes, and keys rising above its
/// bound joining it), with and without deletions (counts that fall below zero), on 1 to 3 workers.
#[test]
fn sliding_top_follows_the_contract() {
    let more = Shape {
        n: 3000,
        keys: 400,
        deletions: false,
    };
    let many = Shape {
        n: 6000,
        keys: 2000,
        deletions: false,
    };
    for seed in 0..4 {
        let workers = 1 + seed as usize % 3;
        for shape in [FEW_KEYS, more, many] {
            for deletions in [false, true] {
                let shape = Shape { deletions, ..shape };
                for windows in [Windows::sliding(30, 10, 0), Windows::tumbling(20, 0)] {
                    check(Operator::Sliding, seed, windows, Some(3), workers, shape);
                }
            }
        }
    }
}
