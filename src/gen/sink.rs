//! Where generated rows go: formatted straight into one reused buffer and written in large
//! blocks, with the name of the output for the error a failed write becomes.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

/// A failed write, with the name of the output it went to.
pub(super) struct Fail {
    pub(super) name: String,
    pub(super) err: io::Error,
}

/// Rows are formatted straight into one reused buffer (no `fmt` machinery, no allocation per row),
/// which is written out in large blocks: generation then runs at disk speed.
pub(super) struct Sink<W: Write> {
    w: W,
    pub(super) buf: Vec<u8>,
    name: String,
}

pub(super) const BLOCK: usize = 1 << 20;

impl Sink<Box<dyn Write>> {
    pub(super) fn open(path: &Path) -> Result<Self, String> {
        // A topic (`kafka://HOST:PORT/TOPIC`): every row one record; a flush sends them.
        let name = path.display().to_string();
        if crate::engine::input::kafka::is_url(&name) {
            let producer = crate::engine::input::kafka::Producer::open(&name)?;
            return Ok(Sink::new(Box::new(producer) as Box<dyn Write>, name));
        }
        let file =
            File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        Ok(Sink::new(
            Box::new(file) as Box<dyn Write>,
            path.display().to_string(),
        ))
    }
}

impl<W: Write> Sink<W> {
    pub(super) fn new(w: W, name: impl Into<String>) -> Self {
        Sink {
            w,
            buf: Vec::with_capacity(BLOCK + 4096),
            name: name.into(),
        }
    }

    pub(super) fn num(&mut self, mut n: u64) -> &mut Self {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.buf.extend_from_slice(&digits[i..]);
        self
    }

    /// Two digits, zero-padded (dates and clock times).
    pub(super) fn two(&mut self, n: u64) -> &mut Self {
        self.buf
            .extend_from_slice(&[b'0' + (n / 10 % 10) as u8, b'0' + (n % 10) as u8]);
        self
    }

    pub(super) fn text(&mut self, s: &str) -> &mut Self {
        self.buf.extend_from_slice(s.as_bytes());
        self
    }

    pub(super) fn ip(&mut self, ip: u32) -> &mut Self {
        let [a, b, c, d] = ip.to_be_bytes();
        self.num(a.into())
            .text(".")
            .num(b.into())
            .text(".")
            .num(c.into())
            .text(".")
            .num(d.into())
    }

    /// Ends the row; writes the buffer out once it holds a block.
    pub(super) fn end(&mut self) -> Result<(), Fail> {
        self.buf.push(b'\n');
        if self.buf.len() >= BLOCK {
            self.drain()?;
        }
        Ok(())
    }

    pub(super) fn drain(&mut self) -> Result<(), Fail> {
        let res = self.w.write_all(&self.buf);
        self.buf.clear();
        res.map_err(|err| Fail {
            name: self.name.clone(),
            err,
        })
    }

    pub(super) fn flush(&mut self) -> Result<(), Fail> {
        self.drain()?;
        self.w.flush().map_err(|err| Fail {
            name: self.name.clone(),
            err,
        })
    }

    #[cfg(test)]
    pub(super) fn into_inner(mut self) -> W {
        assert!(self.flush().is_ok());
        self.w
    }
}

/// Plays rows live (`--follow`): row `i` is written when its time comes on the wall clock,
/// `i / rate` seconds after the start, and every row whose time has come is flushed at once, so
/// that a job reading a pipe sees a live stream at any rate. `row(out, i, start_ms)` writes row
/// `i`, stamped from `start_ms`, the wall clock's epoch milliseconds at the start. `rows`:
/// how many (`None`: until the reader goes away or the process is stopped).
pub(super) fn follow<W: Write>(
    out: &mut Sink<W>,
    rows: Option<u64>,
    rate: f64,
    mut row: impl FnMut(&mut Sink<W>, u64, u64) -> Result<(), Fail>,
) -> Result<(), Fail> {
    let end = rows.unwrap_or(u64::MAX);
    let began = std::time::Instant::now();
    let wall_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let mut i = 0;
    while i < end {
        // Every row whose time has come, then one flush: rows arrive on time at any rate.
        let due = (began.elapsed().as_secs_f64() * rate) as u64 + 1;
        while i < due.min(end) {
            row(out, i, wall_ms)?;
            i += 1;
        }
        out.flush()?;
        let next = std::time::Duration::try_from_secs_f64(i as f64 / rate)
            .ok()
            .and_then(|d| began.checked_add(d));
        let Some(next) = next else { break };
        std::thread::sleep(next.saturating_duration_since(std::time::Instant::now()));
    }
    Ok(())
}
