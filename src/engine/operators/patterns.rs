//! What the pattern jobs (login-fail, order-timeout, tx-match) are made of besides their state
//! machines (`process`): a key's events in sequence order ([`Seq`]), short text
//! fields kept inline ([`Token`]), and the count of events a pattern reads but does not report
//! ([`tally`]).
//!
//! The jobs read their inputs with `Lateness::Strict`, so every record enters at its own event
//! time and `t == ts` for every input update.

use crate::engine::input::source::Origin;
use crate::engine::status::failure::fail;
use differential_dataflow::{ExchangeData, VecCollection};
use serde::{Deserialize, Serialize};
use timely::dataflow::ProbeHandle;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::Operator;
use timely::dataflow::operators::probe::Probe;

/// One event of a key's sequence. Events sort by time, then by input order (`seq`), so equal
/// timestamps of one key are taken in the order of their lines (`docs/event-time.md`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Seq<E> {
    /// Event time, ms.
    pub ts: u64,
    /// Position among the used records of its input: increases with the line number.
    pub seq: u64,
    pub event: E,
}

/// A short text field of an event (a txId, an IP, a payment channel), kept inline when it is up
/// to [`Token::INLINE`] bytes: pattern state holds millions of them, and a heap string costs an
/// allocation on every clone and a pointer chase on every comparison (measured: String clones
/// were an eighth of order-timeout's time). Orders and compares as its text.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Token {
    /// Canonical for texts up to `INLINE` bytes: unused bytes are zero.
    Inline {
        len: u8,
        bytes: [u8; Token::INLINE],
    },
    Heap(Box<str>),
}

impl Token {
    pub const INLINE: usize = 22;

    pub fn new(text: &str) -> Self {
        if text.len() <= Self::INLINE {
            let mut bytes = [0; Self::INLINE];
            bytes[..text.len()].copy_from_slice(text.as_bytes());
            Token::Inline {
                len: text.len() as u8,
                bytes,
            }
        } else {
            Token::Heap(text.into())
        }
    }

    pub fn as_str(&self) -> &str {
        // Built from a &str, cut at its length: valid UTF-8.
        std::str::from_utf8(self.as_bytes()).expect("a token is text")
    }

    /// The text's bytes: what comparisons use (byte order is `str` order), without the UTF-8
    /// check of `as_str`, which showed up in profiles of the arrangements' key searches.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Token::Inline { len, bytes } => &bytes[..*len as usize],
            Token::Heap(text) => text.as_bytes(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.as_bytes().is_empty()
    }
}

impl Ord for Token {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl PartialOrd for Token {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_str().fmt(f)
    }
}

impl std::fmt::Display for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<E> Seq<E> {
    /// An event at `ts`, ordered among events of equal time by its origin (file, line).
    pub fn at(ts: u64, origin: Origin, event: E) -> Self {
        Seq {
            ts,
            seq: origin.seq(),
            event,
        }
    }
}

/// Counts the records of `records` (net, over the whole run) and, once the input is complete,
/// reports the count on stderr with `say(count)` from global worker 0 (pass `report = true` there).
/// For events a job counts but does not report (an order's second pay). The probe is `probe`, so
/// the run waits for the count.
pub fn tally<'s, D, F>(
    records: VecCollection<'s, u64, D>,
    name: &str,
    report: bool,
    probe: &ProbeHandle<u64>,
    say: F,
) where
    D: ExchangeData,
    F: Fn(isize) -> Option<String> + 'static,
{
    let mut count = 0isize;
    let mut said = false;
    records
        .inner
        .unary_frontier::<timely::container::CapacityContainerBuilder<Vec<()>>, _, _, _>(
            Exchange::new(|_: &(D, u64, isize)| 0),
            name,
            move |_capability, _info| {
                move |(input, frontier), _output| {
                    input.for_each(|_cap, data| {
                        count += data.iter().map(|(_, _, r)| *r).sum::<isize>();
                    });
                    if report && !said && frontier.is_empty() {
                        said = true;
                        if let Some(line) = say(count) {
                            crate::engine::status::progress::eprint_line(&format!("uba: {line}"));
                        }
                    }
                }
            },
        )
        .probe_with(probe);
}

/// Each insertion of an append-only input (a keyed process's events, a quota's records), once per
/// unit of multiplicity, with its time. A retraction cannot happen there: it is an internal error,
/// `what` saying what was retracted.
pub fn insertions<D: Clone>(
    updates: impl IntoIterator<Item = (D, u64, isize)>,
    what: &str,
    mut each: impl FnMut(u64, D),
) {
    for (data, t, r) in updates {
        if r < 0 {
            fail(&format!("internal error: {what} was retracted"));
        }
        for _ in 1..r {
            each(t, data.clone());
        }
        if r > 0 {
            each(t, data);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_order_breaks_ties_of_equal_times() {
        let line = |file, line| Origin { file, line };
        let (a, b) = (
            Seq::at(5, line(0, 7), "success"),
            Seq::at(5, line(0, 8), "fail"),
        );
        assert!(a < b);
        assert!(
            Seq::at(4, line(0, 9), "x") < a,
            "time first, then input order"
        );
        assert!(b < Seq::at(5, line(1, 1), "a"), "then file, then line");
    }

    #[test]
    fn tokens_order_as_their_text_inline_or_not() {
        let long = "x".repeat(Token::INLINE + 1);
        let mut tokens: Vec<Token> = ["ab", "abc", "", &long, "b", "a\u{e9}"]
            .iter()
            .map(|t| Token::new(t))
            .collect();
        tokens.sort();
        let texts: Vec<&str> = tokens.iter().map(Token::as_str).collect();
        assert_eq!(texts, ["", "ab", "abc", "a\u{e9}", "b", long.as_str()]);
        assert_eq!(Token::new("ab"), Token::new("ab"));
        assert!(matches!(Token::new(&long), Token::Heap(_)));
    }
}
