//! Updates held by their time until the frontier passes it, as the operators that apply their
//! input in time order keep them (windows in a map, the sinks).

use std::collections::BTreeMap;

/// Updates not yet applied, by time.
pub type Pending<D> = BTreeMap<u64, Vec<(D, isize)>>;

/// Files `updates` under their times. A batch's updates mostly share a time (hot-pages' late
/// lines all come at the watermark): a run of one time is filed with one lookup of the map, not
/// one per update.
pub fn hold<D>(pending: &mut Pending<D>, updates: impl IntoIterator<Item = (D, u64, isize)>) {
    let mut updates = updates.into_iter().peekable();
    while let Some((data, time, diff)) = updates.next() {
        let at = pending.entry(time).or_default();
        at.push((data, diff));
        while let Some((data, _, diff)) = updates.next_if(|(_, t, _)| *t == time) {
            at.push((data, diff));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Pending, hold};

    #[test]
    fn runs_of_one_time_and_returns_to_an_earlier_one_are_all_filed() {
        let mut pending = Pending::new();
        hold(
            &mut pending,
            [('a', 2, 1), ('b', 2, -1), ('c', 1, 1), ('d', 2, 3)],
        );
        assert_eq!(pending[&1], vec![('c', 1)]);
        assert_eq!(pending[&2], vec![('a', 1), ('b', -1), ('d', 3)]);
    }
}
