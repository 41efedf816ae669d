//! Sums over a few of many densely numbered keys, in an array instead of a hash map.
//!
//! Item-to-item counting sums, for one item (or one user) at a time, over the few hundred items
//! it meets among millions. Numbered densely, the sums live in an array as long as the
//! catalogue, touched only where met; a stamp per slot says whether it belongs to the current
//! round, so a round costs what it touches and nothing to clear. A hash map per round cost a
//! lookup per addition, most of recommend's scoring.

/// Sums by dense index, one round at a time.
pub struct DenseSums {
    sums: Vec<isize>,
    /// `stamps[y] == stamp`: `sums[y]` belongs to this round.
    stamps: Vec<u32>,
    stamp: u32,
    /// The indices met this round, in the order first met.
    met: Vec<u32>,
}

impl DenseSums {
    /// Sums for the indices `0..len`.
    pub fn new(len: usize) -> Self {
        DenseSums {
            sums: vec![0; len],
            stamps: vec![0; len],
            stamp: 1,
            met: Vec::new(),
        }
    }

    /// How many indices it has room for.
    pub fn indices(&self) -> usize {
        self.sums.len()
    }

    /// Adds `value` to the sum of `y`.
    #[inline]
    pub fn add(&mut self, y: u32, value: isize) {
        let i = y as usize;
        if self.stamps[i] != self.stamp {
            self.stamps[i] = self.stamp;
            self.sums[i] = 0;
            self.met.push(y);
        }
        self.sums[i] += value;
    }

    /// Sets the sum of `y` to zero if it was met this round (an item left out).
    pub fn zero(&mut self, y: u32) {
        let i = y as usize;
        if self.stamps[i] == self.stamp {
            self.sums[i] = 0;
        }
    }

    /// Hands `each(index, sum)` for every index met this round, in the order first met (zero
    /// sums too), and starts the next round.
    pub fn drain(&mut self, mut each: impl FnMut(u32, isize)) {
        for &y in &self.met {
            each(y, self.sums[y as usize]);
        }
        self.met.clear();
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            // Four billion rounds: the old stamps could be taken for the new round's.
            self.stamps.fill(0);
            self.stamp = 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rounds do not see each other's sums; zeroed and cancelled sums are handed on as zeros.
    #[test]
    fn rounds_are_independent() {
        let mut sums = DenseSums::new(5);
        let mut seen = Vec::new();
        sums.add(3, 2);
        sums.add(1, 5);
        sums.add(3, 4);
        sums.add(4, 1);
        sums.add(4, -1);
        sums.zero(1);
        sums.zero(2); // not met: stays unmet
        sums.drain(|y, s| seen.push((y, s)));
        assert_eq!(seen, [(3, 6), (1, 0), (4, 0)]);
        seen.clear();
        sums.add(1, 7);
        sums.drain(|y, s| seen.push((y, s)));
        assert_eq!(seen, [(1, 7)]);
    }
}
