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
}

impl Side {
    fn new(kind: &'static str, flag: &'static str, path: Option<&str>) -> Result<Self, String> {
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
        })
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
    pub fn open(rejects: Option<&str>, late: Option<&str>) -> Result<Self, String> {
        Ok(SideOutputs {
            rejects: Mutex::new(Side::new("rejected", "--rejects", rejects)?),
            late: Mutex::new(Side::new("late", "--late", late)?),
        })
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

    /// Flushes the files, or says how many lines were not shown.
    pub fn finish(&self) {
        self.rejects.lock().expect("side output lock").finish();
        self.late.lock().expect("side output lock").finish();
    }
}
