//! Seeded byte-level mutations of an input file, for the hostile-input tests: every job must
//! survive them (no panic, no stall), account for every line, and still equal its naive reference
//! on the lines it accepted.
//!
//! `UBA_MUTATIONS=N` runs N cases per job instead of the default (a long run for a soak).

/// A small deterministic generator (SplitMix64): the same seed gives the same mutations on every
/// platform, so a failing case is reproduced by its seed alone.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// How many cases a mutation test runs: `default`, or `UBA_MUTATIONS` when set.
pub fn cases(default: usize) -> usize {
    std::env::var("UBA_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Texts that break parsers in interesting ways: huge and negative numbers, times far in the
/// past and future, empty fields, quotes, separators, invalid UTF-8.
const NASTY: &[&[u8]] = &[
    b"",
    b"0",
    b"-1",
    b"18446744073709551615",
    b"18446744073709551616",
    b"99999999999999999999999",
    b"4102444800",
    b"2147483647000",
    b"1",
    b"\"",
    b"\"a,b\"",
    b",",
    b",,",
    b"\t",
    b" ",
    b"\xff\xfe",
    b"\xc3\x28",
    b"NaN",
    b"1e9",
    b"+5",
    b"pv",
    b"GET",
    b"fail",
    b"create",
    b"17/05/2015:10:05:03 +0000",
    b"31/02/2015:25:61:61 +9999",
];

/// Applies `count` random mutations to `input`, each one of: flip a byte, delete a run, duplicate
/// a run, insert random or nasty bytes, cut a line in two, join two lines, replace a field by a
/// nasty text, duplicate a line, swap two lines.
pub fn mutate(input: &[u8], rng: &mut Rng, count: usize) -> Vec<u8> {
    let mut data = input.to_vec();
    for _ in 0..count {
        if data.is_empty() {
            data.extend_from_slice(NASTY[rng.below(NASTY.len())]);
            continue;
        }
        let at = rng.below(data.len());
        match rng.below(10) {
            0 => data[at] ^= 1 << rng.below(8),
            1 => {
                let end = (at + 1 + rng.below(16)).min(data.len());
                data.drain(at..end);
            }
            2 => {
                let end = (at + 1 + rng.below(32)).min(data.len());
                let run = data[at..end].to_vec();
                data.splice(at..at, run);
            }
            3 => {
                let bytes: Vec<u8> = (0..1 + rng.below(8)).map(|_| rng.next() as u8).collect();
                data.splice(at..at, bytes);
            }
            4 => {
                let nasty = NASTY[rng.below(NASTY.len())];
                data.splice(at..at, nasty.iter().copied());
            }
            5 => data.insert(at, b'\n'),
            6 => {
                if let Some(i) = data[at..].iter().position(|b| *b == b'\n') {
                    data.remove(at + i);
                }
            }
            7 => replace_field(&mut data, at, NASTY[rng.below(NASTY.len())]),
            8 => {
                let (start, end) = line_around(&data, at);
                let line = data[start..end].to_vec();
                data.splice(start..start, line);
            }
            _ => {
                let (a, a_end) = line_around(&data, at);
                let (b, b_end) = line_around(&data, rng.below(data.len()));
                if a_end <= b {
                    let second = data[b..b_end].to_vec();
                    let first = data[a..a_end].to_vec();
                    data.splice(b..b_end, first);
                    data.splice(a..a_end, second);
                }
            }
        }
    }
    data
}

/// The line (with its newline) that holds byte `at`.
fn line_around(data: &[u8], at: usize) -> (usize, usize) {
    let start = data[..at]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let end = data[at..]
        .iter()
        .position(|b| *b == b'\n')
        .map_or(data.len(), |i| at + i + 1);
    (start, end)
}

/// Replaces the field (between commas or spaces) that holds byte `at` by `text`.
fn replace_field(data: &mut Vec<u8>, at: usize, text: &[u8]) {
    let separator = |b: &u8| matches!(*b, b',' | b' ' | b'\n');
    let start = data[..at].iter().rposition(separator).map_or(0, |i| i + 1);
    let end = data[at..]
        .iter()
        .position(separator)
        .map_or(data.len(), |i| at + i);
    data.splice(start..end, text.iter().copied());
}

/// The lines of `input` that a run accepted: all but those whose line numbers (1-based) are in
/// `rejected`. Each kept line ends with a newline. A run numbers lines as `str::lines` does,
/// plus a last line without a newline.
pub fn accepted_lines(input: &[u8], rejected: &[usize]) -> Vec<u8> {
    let rejected: std::collections::HashSet<usize> = rejected.iter().copied().collect();
    let lines: Vec<&[u8]> = input.split(|b| *b == b'\n').collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if i == lines.len() - 1 && line.is_empty() {
            break; // the file ended with a newline
        }
        if !rejected.contains(&(i + 1)) {
            out.extend_from_slice(line);
            out.push(b'\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_mutations() {
        let input = b"1,2,3,pv,1511658000\n4,5,6,buy,1511658001\n";
        let a = mutate(input, &mut Rng::new(7), 5);
        let b = mutate(input, &mut Rng::new(7), 5);
        assert_eq!(a, b);
        assert_ne!(a, input.to_vec());
    }

    #[test]
    fn accepted_lines_drop_the_rejected_ones() {
        assert_eq!(accepted_lines(b"a\nb\nc", &[2]), b"a\nc\n".to_vec());
        assert_eq!(accepted_lines(b"a\nb\n", &[1]), b"b\n".to_vec());
    }
}
