//! Sums over a few of many densely numbered keys, in an array instead of a hash map.
//!
//! Counting co-occurrences item by item (`cooccurrence.rs`) sums, for one item at a time, over
//! the few hundred items it meets among millions. Numbered densely, the sums live in an array as
//! long as the catalogue, touched only where met; a round stamp per slot says whether it belongs
//! to the current round, so a round costs what it touches and nothing to clear. The array
//! outgrows the caches (2.5M items at 10M rows): [`by_use`] numbers the items so that the most
//! used share cache lines, and a slot holds its sum and its stamp side by side.

/// Sums by dense index, one round at a time.
pub struct DenseSums {
    /// Each index's sum, and the round it belongs to: side by side, one cache line a touch
    /// (the arrays are larger than the caches, and the indices a round touches are scattered).
    slots: Vec<Slot>,
    round: u32,
    /// The indices met this round, in the order first met.
    met: Vec<u32>,
}

#[derive(Clone, Copy, Default)]
struct Slot {
    sum: isize,
    round: u32,
}

impl DenseSums {
    /// Sums for the indices `0..len`.
    pub fn new(len: usize) -> Self {
        DenseSums {
            slots: vec![Slot::default(); len],
            round: 1,
            met: Vec::new(),
        }
    }

    /// Adds `value` to the sum of `y`.
    #[inline]
    pub fn add(&mut self, y: u32, value: isize) {
        let slot = &mut self.slots[y as usize];
        if slot.round != self.round {
            *slot = Slot {
                sum: 0,
                round: self.round,
            };
            self.met.push(y);
        }
        slot.sum += value;
    }

    /// Hands `each(index, sum)` for every index met this round, in the order first met (zero
    /// sums too), and starts the next round.
    pub fn drain(&mut self, mut each: impl FnMut(u32, isize)) {
        for &y in &self.met {
            each(y, self.slots[y as usize].sum);
        }
        self.met.clear();
        self.round = self.round.wrapping_add(1);
        if self.round == 0 {
            // Four billion rounds: an old slot could be taken for the new round's.
            self.slots.fill(Slot::default());
            self.round = 1;
        }
    }
}

/// A numbering of `0..uses.len()` by use, the most used first (ties in index order): `slot[y]`
/// is the new number of `y`, `order[n]` the old number of `n`. Summing into slots so numbered,
/// the hot ones share few cache lines.
pub fn by_use(uses: &[u32]) -> (Vec<u32>, Vec<u32>) {
    let mut order: Vec<u32> = (0..uses.len() as u32).collect();
    order.sort_unstable_by_key(|&y| (std::cmp::Reverse(uses[y as usize]), y));
    let mut slot = vec![0; uses.len()];
    for (n, &y) in order.iter().enumerate() {
        slot[y as usize] = n as u32;
    }
    (slot, order)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rounds do not see each other's sums; cancelled sums are handed on as zeros.
    #[test]
    fn rounds_are_independent() {
        let mut sums = DenseSums::new(5);
        let mut seen = Vec::new();
        sums.add(3, 2);
        sums.add(1, 5);
        sums.add(3, 4);
        sums.add(4, 1);
        sums.add(4, -1);
        sums.drain(|y, s| seen.push((y, s)));
        assert_eq!(seen, [(3, 6), (1, 5), (4, 0)]);
        seen.clear();
        sums.add(1, 7);
        sums.drain(|y, s| seen.push((y, s)));
        assert_eq!(seen, [(1, 7)]);
    }

    #[test]
    fn numbered_by_use() {
        let (slot, order) = by_use(&[1, 5, 0, 5]);
        assert_eq!(order, [1, 3, 0, 2]);
        assert_eq!(slot, [2, 0, 3, 1]);
    }
}
