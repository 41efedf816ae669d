//! The accounting side outputs: rejected lines and late records.
//!
//! Nothing is lost silently: with `--rejects FILE` / `--late FILE` every such line is written
//! (source, line number, reason, the line itself, as csv); without, the first ten go to stderr and
//! the rest are counted.

use std::fs::File;
use std::io::BufWriter;
use std::sync::Mutex;

/// How many lines of each kind are shown on stderr when no file was given.
const SHOWN: u64 = 10;

struct Side {
    kind: &'static str,
    flag: &'static str,
    file: Option<csv::Writer<BufWriter<File>>>,
    count: u64,
    /// The rows a resumed run's predecessor wrote (`source, line, reason, text`), until
    /// [`SideOutputs::carry`] keeps those before each input's resume point.
    previous: Vec<csv::StringRecord>,
}

/// The rows of the side file at `path` that a killed run left (its `.partial`), or that a run
/// that ended wrote; none if there is neither.
fn previous_rows(path: &str) -> Result<Vec<csv::StringRecord>, String> {
    let partial = format!("{path}.partial");
    let Some(found) = [partial.as_str(), path]
        .into_iter()
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file()))
    else {
        return Ok(Vec::new());
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(found)
        .map_err(|e| format!("cannot read '{found}': {e}"))?;
    // A killed run's last row may be cut short: it is of a line after every resume point (the
    // rows before a checkpoint were flushed when it was taken), and is dropped with the rest.
    Ok(reader
        .records()
        .map_while(Result::ok)
        .filter(|row| row.len() == 4)
        .collect())
}

impl Side {
    fn new(
        kind: &'static str,
        flag: &'static str,
        path: Option<&str>,
        carry: bool,
    ) -> Result<Self, String> {
        let previous = match path {
            Some(path) if carry => previous_rows(path)?,
            _ => Vec::new(),
        };
        let file = match path {
            None => None,
            Some(path) => {
                let file = crate::engine::status::failure::create_staged(path)
                    .map_err(|e| format!("cannot create {flag} file '{path}': {e}"))?;
                let mut writer = csv::Writer::from_writer(BufWriter::new(file));
                writer
                    .write_record(["source", "line", "reason", "text"])
                    .map_err(|e| format!("cannot write {flag} file '{path}': {e}"))?;
                Some(writer)
            }
        };
        Ok(Side {
            kind,
            flag,
            file,
            count: 0,
            previous,
        })
    }

    /// Writes the predecessor's rows of lines before their input's resume line (an input not
    /// named resumes nowhere: none of its rows), in their order.
    fn carry(&mut self, resume_lines: &std::collections::HashMap<String, u64>) {
        for row in std::mem::take(&mut self.previous) {
            let before = match (row.get(0), row.get(1).and_then(|l| l.parse::<u64>().ok())) {
                (Some(source), Some(line)) => resume_lines.get(source).is_some_and(|&r| line < r),
                _ => false,
            };
            if before && let Some(writer) = &mut self.file {
                self.count += 1;
                if let Err(e) = writer.write_record(&row) {
                    crate::engine::status::failure::fail(&format!(
                        "cannot write the {} file: {e}",
                        self.flag
                    ));
                }
            }
        }
    }

    fn write(&mut self, source: &str, line: u64, reason: &str, text: &[u8]) {
        self.count += 1;
        let text = String::from_utf8_lossy(text);
        match &mut self.file {
            Some(writer) => {
                if let Err(e) = writer.write_record([source, &line.to_string(), reason, &text]) {
                    crate::engine::status::failure::fail(&format!(
                        "cannot write the {} file: {e}",
                        self.flag
                    ));
                }
            }
            None if self.count <= SHOWN => crate::engine::status::progress::eprint_line(&format!(
                "uba: {} {source}:{line}: {reason}: {text}",
                self.kind
            )),
            None => {}
        }
    }

    fn flush(&mut self) {
        if let Some(writer) = &mut self.file
            && let Err(e) = writer.flush()
        {
            crate::engine::status::failure::fail(&format!(
                "cannot write the {} file: {e}",
                self.flag
            ));
        }
    }

    fn finish(&mut self) {
        if let Some(writer) = &mut self.file {
            if let Err(e) = writer.flush() {
                crate::engine::status::failure::fail(&format!(
                    "cannot write the {} file: {e}",
                    self.flag
                ));
            }
        } else if self.count > SHOWN {
            crate::engine::status::progress::eprint_line(&format!(
                "uba: ... and {} more {} lines (write them all with {} FILE)",
                self.count - SHOWN,
                self.kind,
                self.flag
            ));
        }
    }
}

/// The rejects and late side outputs of one run, shared by the reader threads of its inputs.
pub struct SideOutputs {
    rejects: Mutex<Side>,
    late: Mutex<Side>,
}

impl SideOutputs {
    /// With `carry` (a resumed table), the rows the resumed run wrote are read first, for
    /// [`SideOutputs::carry`].
    pub fn open(rejects: Option<&str>, late: Option<&str>, carry: bool) -> Result<Self, String> {
        Ok(SideOutputs {
            rejects: Mutex::new(Side::new("rejected", "--rejects", rejects, carry)?),
            late: Mutex::new(Side::new("late", "--late", late, carry)?),
        })
    }

    /// A resumed run reads each input on from a line (`resume_lines`, by the input's name): the
    /// rows its predecessor wrote for the lines before go first, as an uninterrupted run has
    /// them; the lines from there on are decided again.
    pub fn carry(&self, resume_lines: &std::collections::HashMap<String, u64>) {
        for side in [&self.rejects, &self.late] {
            side.lock().expect("side output lock").carry(resume_lines);
        }
    }

    pub fn reject(&self, source: &str, line: u64, reason: &str, text: &[u8]) {
        self.rejects
            .lock()
            .expect("side output lock")
            .write(source, line, reason, text);
    }

    pub fn late(&self, source: &str, line: u64, reason: &str, text: &[u8]) {
        self.late
            .lock()
            .expect("side output lock")
            .write(source, line, reason, text);
    }

    /// Hands what was written to the files to the system: done when a reader takes a
    /// checkpoint, so that the rows of the lines before it survive a kill for a resume to keep.
    pub fn flush(&self) {
        self.rejects.lock().expect("side output lock").flush();
        self.late.lock().expect("side output lock").flush();
    }

    /// Flushes the files, or says how many lines were not shown.
    pub fn finish(&self) {
        self.rejects.lock().expect("side output lock").finish();
        self.late.lock().expect("side output lock").finish();
    }
}
