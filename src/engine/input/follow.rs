//! A followed file (`--follow`): the lines appended after its end are read as they come, and a
//! rotation is followed, as `tail -F` does, until the run is stopped (Ctrl-C, SIGTERM).
//!
//! The reader of an input ([`source`](super::source)) needs no change for it: a followed file is
//! a [`Read`] whose end of file is never reached while the run goes on. At the end of what is
//! written, it waits and looks again; at a stop it reports the end, and the reader takes a last
//! unfinished line as the last line, as it does at the end of a file.
//!
//! Rotation: when the path names another file than the one being read (the file was renamed,
//! `logrotate`'s default, and a new one created), what is left of the old file is read to its
//! end, then the new file from its start. A file that became shorter than what was read
//! (truncated in place, `copytruncate`) is read again from its start. While nothing is at the
//! path (between the rename and the creation), the old file is kept.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::time::Duration;

use crate::engine::input::source::{Input, Position};
use crate::engine::status::stop;

/// How often the end of a followed file is looked at again.
const POLL: Duration = Duration::from_millis(50);

pub struct Followed {
    path: String,
    file: File,
    /// The file being read: its device and inode, to see that the path names another.
    identity: (u64, u64),
    /// Bytes read from this file.
    offset: u64,
    /// Bytes read in all, and where each file (or each reading of a truncated one) began in
    /// them: what [`Input::position`] turns a count of bytes taken into. Those before the last
    /// position asked for are dropped.
    total: u64,
    segments: VecDeque<Segment>,
}

/// From `total` bytes read on, the bytes came from file `identity`, from its byte `offset`.
struct Segment {
    total: u64,
    identity: (u64, u64),
    offset: u64,
}

impl Followed {
    /// Follows `file`, opened at `path`, from its start.
    pub fn new(path: &str, file: File) -> std::io::Result<Followed> {
        Followed::at(path, file, 0)
    }

    /// Follows `file`, opened at `path` (or found again after a rotation), from byte `offset`.
    pub fn at(path: &str, mut file: File, offset: u64) -> std::io::Result<Followed> {
        let metadata = file.metadata()?;
        file.seek(SeekFrom::Start(offset))?;
        let identity = (metadata.dev(), metadata.ino());
        Ok(Followed {
            path: path.to_owned(),
            file,
            identity,
            offset,
            total: 0,
            segments: VecDeque::from([Segment {
                total: 0,
                identity,
                offset,
            }]),
        })
    }

    /// Bytes from now on come from the current file from `self.offset`.
    fn begin_segment(&mut self) {
        self.segments.push_back(Segment {
            total: self.total,
            identity: self.identity,
            offset: self.offset,
        });
    }

    fn took(&mut self, n: usize) -> usize {
        self.offset += n as u64;
        self.total += n as u64;
        n
    }

    /// At the end of the file being read: the file now at the path, if it is another one.
    /// A file truncated in place is read again from its start.
    fn look_again(&mut self) -> std::io::Result<Option<File>> {
        let Ok(at_path) = std::fs::metadata(&self.path) else {
            return Ok(None); // nothing at the path for now: keep the old file
        };
        if (at_path.dev(), at_path.ino()) != self.identity {
            return Ok(File::open(&self.path).ok());
        }
        if at_path.len() < self.offset {
            self.file.seek(SeekFrom::Start(0))?;
            self.offset = 0;
            self.begin_segment();
        }
        Ok(None)
    }
}

impl Read for Followed {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let n = self.file.read(buf)?;
            if n > 0 {
                return Ok(self.took(n));
            }
            if stop::inputs_ended() {
                return Ok(0);
            }
            match self.look_again()? {
                Some(next) => {
                    // Rotated: what was written to the old file before the rename is read
                    // first, then the new file from its start.
                    let n = self.file.read(buf)?;
                    if n > 0 {
                        return Ok(self.took(n));
                    }
                    let metadata = next.metadata()?;
                    self.identity = (metadata.dev(), metadata.ino());
                    self.file = next;
                    self.offset = 0;
                    self.begin_segment();
                }
                None => std::thread::sleep(POLL),
            }
        }
    }
}

impl Input for Followed {
    /// The file the position names is the one at the path, or, after a rotation, one beside it
    /// (`access.log.1`): that one is read to its end first, then the file at the path.
    fn resume_at(&mut self, position: &Position) -> Result<(), String> {
        let named = |m: &std::fs::Metadata| format!("{}:{}", m.dev(), m.ino()) == position.identity;
        let file = if named(&self.file.metadata().map_err(|e| e.to_string())?) {
            self.file.try_clone().map_err(|e| e.to_string())?
        } else {
            let path = std::path::Path::new(&self.path);
            let dir = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => std::path::Path::new("."),
            };
            let entries = std::fs::read_dir(dir).map_err(|e| e.to_string())?;
            let found = entries
                .flatten()
                .find(|e| std::fs::metadata(e.path()).is_ok_and(|m| m.is_file() && named(&m)));
            let Some(entry) = found else {
                return Err(format!(
                    "the file it read (device:inode {}) is neither at the path nor beside it: \
                     rotated away, a resume cannot find the lines after its position",
                    position.identity
                ));
            };
            File::open(entry.path()).map_err(|e| e.to_string())?
        };
        *self = Followed::at(&self.path, file, position.offset).map_err(|e| e.to_string())?;
        Ok(())
    }

    fn position(&mut self, consumed: u64) -> Option<Position> {
        // The last segment that began at or before `consumed`; those before it are done with.
        while self.segments.len() > 1 && self.segments[1].total <= consumed {
            self.segments.pop_front();
        }
        let segment = &self.segments[0];
        Some(Position {
            identity: format!("{}:{}", segment.identity.0, segment.identity.1),
            offset: segment.offset + (consumed - segment.total),
        })
    }
}
