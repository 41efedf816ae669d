//! Short text fields kept inline ([`Token`]): a record's text that a job keys or holds by the
//! million (an ad click's province, an order's txId) costs no allocation when read, cloned or
//! sent between workers.

use serde::{Deserialize, Serialize};

/// A short text field of an event (a txId, an IP, a payment channel, a province), kept inline when it is up
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
