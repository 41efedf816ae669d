//! The shared references (`tests/reference`) against tiny inputs whose emissions were worked out
//! by hand from `docs/event-time.md` and written here literally: when one of these fails, the
//! reference is wrong, whatever the job does. Times are plain milliseconds; a line is `ts,key`,
//! where the key `skip` is a row the job filters out.

mod reference;

use std::collections::{BTreeMap, BTreeSet};

use reference::windowed::{Emission, Windows, emissions};
use reference::{Arrival, Change, changes, patterns};

fn parse(line: &str) -> Option<(u64, Option<String>)> {
    let (ts, key) = line.split_once(',')?;
    Some((ts.parse().ok()?, (key != "skip").then(|| key.to_owned())))
}

/// Replays `text` against `w` with `out_of_orderness`; every emission of each window's sorted
/// keys, and the late lines.
fn run(text: &str, w: Windows, out_of_orderness: u64) -> (Vec<Emission<String>>, Vec<usize>) {
    let (records, late) = w.replay(text, out_of_orderness, parse);
    let emissions = emissions(&w.contents(records), |_, keys| {
        let mut keys: Vec<&str> = keys.iter().map(|k| k.as_str()).collect();
        keys.sort();
        keys.join(" ")
    });
    (emissions, late)
}

fn em(end: u64, at: u64, update: bool, result: &str) -> Emission<String> {
    Emission {
        end,
        at,
        update,
        result: result.to_owned(),
    }
}

#[test]
fn ends_and_entering() {
    // 30 ms windows sliding by 10: 25 is in [0, 30), [10, 40), [20, 50).
    assert_eq!(Windows::sliding(30, 10, 0).ends(25), [30, 40, 50]);
    assert_eq!(Windows::tumbling(10, 0).ends(10), [20]);
    let w = Windows::tumbling(10, 5);
    assert_eq!(
        w.enters(3, 10),
        Some(9),
        "before it fires: at its last instant"
    );
    assert_eq!(
        w.enters(12, 10),
        Some(12),
        "fired, within lateness: a correction"
    );
    assert_eq!(w.enters(15, 10), None, "purged at end + lateness");
}

#[test]
fn windows_fire_at_their_last_instant_and_an_empty_window_prints_nothing() {
    // [0, 10) holds 1 and 4, [20, 30) holds 25; nothing falls in [10, 20).
    let (out, late) = run("1,a\n4,b\n25,c\n", Windows::tumbling(10, 0), 0);
    assert_eq!(out, [em(10, 9, false, "a b"), em(30, 29, false, "c")]);
    assert!(late.is_empty());
}

#[test]
fn out_of_orderness_holds_the_watermark_back() {
    // After 12 the watermark is 12 - 5 = 7: 8 is on time and [0, 10) has not fired.
    let (out, late) = run("12,a\n8,b\n", Windows::tumbling(10, 0), 5);
    assert_eq!(out, [em(10, 9, false, "b"), em(20, 19, false, "a")]);
    assert!(late.is_empty());
}

#[test]
fn a_late_record_joins_its_windows_that_have_not_fired() {
    // 10 ms windows sliding by 5. After 106 the watermark is 106: 104 is late. Of its windows,
    // [95, 105) has fired (and with no lateness is gone); [100, 110) has not: 104 joins it
    // before it fires, so no correction is printed.
    let text = "106,a\n104,b\n115,c\n";
    let w = Windows::sliding(10, 5, 0);
    let (records, late) = w.replay(text, 0, parse);
    assert_eq!(
        records,
        [
            Arrival {
                line: 1,
                ts: 106,
                at: 106,
                record: "a".to_owned()
            },
            Arrival {
                line: 2,
                ts: 104,
                at: 106,
                record: "b".to_owned()
            },
            Arrival {
                line: 3,
                ts: 115,
                at: 115,
                record: "c".to_owned()
            },
        ]
    );
    assert!(late.is_empty());
    let (out, _) = run(text, w, 0);
    assert_eq!(
        out,
        [
            em(110, 109, false, "a b"),
            em(115, 114, false, "a"),
            em(120, 119, false, "c"),
            em(125, 124, false, "c"),
        ]
    );
}

#[test]
fn a_record_with_no_window_left_is_late() {
    // After 12 the watermark is 12: 5's only window [0, 10) fired and is gone.
    let (out, late) = run("3,a\n12,b\n5,c\n", Windows::tumbling(10, 0), 0);
    assert_eq!(out, [em(10, 9, false, "a"), em(20, 19, false, "b")]);
    assert_eq!(late, [3]);
}

#[test]
fn corrections_within_the_allowed_lateness_print_updates_at_the_watermark() {
    // Lateness 5: [0, 10) takes late records until the watermark reaches 15. 5 arrives at
    // watermark 12: an update of [0, 10) at 12. 8 arrives at watermark 16: late.
    let text = "3,a\n12,b\n5,c\n14,d\n16,e\n8,f\n";
    let (out, late) = run(text, Windows::tumbling(10, 5), 0);
    assert_eq!(
        out,
        [
            em(10, 9, false, "a"),
            em(10, 12, true, "a c"),
            em(20, 19, false, "b d e"),
        ]
    );
    assert_eq!(late, [6]);
}

#[test]
fn a_correction_that_changes_nothing_is_not_printed() {
    // Lateness 5; the result is the set of keys. `a` again at 5 (entering at watermark 12)
    // leaves [0, 10) as it was: no update. Counted instead, the same record is an update.
    let w = Windows::tumbling(10, 5);
    let (records, late) = w.replay("3,a\n12,b\n5,a\n", 0, parse);
    assert!(late.is_empty());
    let contents = w.contents(records);
    let sets = emissions(&contents, |_, keys| {
        keys.iter().collect::<BTreeSet<_>>().len()
    });
    let counts = emissions(&contents, |_, keys| keys.len());
    let e = |end, at, update, result| Emission {
        end,
        at,
        update,
        result,
    };
    assert_eq!(sets, [e(10, 9, false, 1), e(20, 19, false, 1)]);
    assert_eq!(
        counts,
        [e(10, 9, false, 1), e(10, 12, true, 2), e(20, 19, false, 1)]
    );
}

#[test]
fn filtered_rows_move_the_watermark_and_rejected_lines_do_not() {
    // `xx` does not parse: nothing moves. The filtered row at 12 moves the watermark to 12,
    // so 5 (line 4) is late.
    let (out, late) = run("3,a\nxx,a\n12,skip\n5,b\n", Windows::tumbling(10, 0), 0);
    assert_eq!(out, [em(10, 9, false, "a")]);
    assert_eq!(late, [4]);
}

#[test]
fn patterns_send_every_record_behind_the_watermark_to_the_late_output() {
    let parse = |f: &[&str]| Some((f[0].parse().ok()?, Some(f[1].to_owned())));
    // Out of order by 1: after 5 the watermark is 4, so 3 is late and 5 again is not.
    let (records, late) = patterns::replay("5,a\n3, b\n5,c\n", 1, parse);
    let kept: Vec<(usize, u64, u64, &str)> = records
        .iter()
        .map(|r| (r.line, r.ts, r.at, r.record.as_str()))
        .collect();
    assert_eq!(kept, [(1, 5, 5, "a"), (3, 5, 5, "c")]);
    assert_eq!(late, [2]);
    // Out of order by 2: the watermark is 3, and 3 is on time (fields are trimmed).
    let (records, late) = patterns::replay("5,a\n3, b\n5,c\n", 2, parse);
    assert_eq!(records[1].record, "b");
    assert!(late.is_empty());
    // Rows in (emitted_at, sort key) order, under the header.
    let rows = vec![
        (7, "b".to_owned(), "7,b".to_owned()),
        (3, "z".to_owned(), "3,z".to_owned()),
        (7, "a".to_owned(), "7,a".to_owned()),
    ];
    assert_eq!(patterns::csv("at,key", rows), "at,key\n3,z\n7,a\n7,b\n");
}

#[test]
fn a_keyed_result_is_printed_when_it_changes_and_when_it_goes() {
    // Key 1: 10 at times 1 and 2 (one print), gone at 3; key 2: 5 at 2.
    let times: BTreeMap<u32, BTreeSet<u64>> = [(1, [1, 2, 3].into()), (2, [2].into())].into();
    let out = changes(&times, |&key, t| match (key, t) {
        (1, 1 | 2) => Some(10),
        (2, _) => Some(5),
        _ => None,
    });
    assert_eq!(
        out,
        [
            Change {
                at: 1,
                key: 1,
                result: Some(10),
                previous: None
            },
            Change {
                at: 2,
                key: 2,
                result: Some(5),
                previous: None
            },
            Change {
                at: 3,
                key: 1,
                result: None,
                previous: Some(10)
            },
        ]
    );
}
