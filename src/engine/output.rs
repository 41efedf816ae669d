//! Where results go, and in which format: `text` for people, `csv` and `json` for programs.
//!
//! Only global worker 0 owns an [`Output`]: results are gathered there, so a cluster writes one
//! output with one csv header (`docs/event-time.md`, "Output").

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};

use serde::Serialize;
use time::UtcOffset;

use crate::engine::failure::{self, Failure};
use crate::engine::progress::{self, Display};

/// The output formats of every job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
pub enum Format {
    /// One block per window emission, as the tutorial printed it.
    Text,
    /// One header line, then one line per result row; times in epoch milliseconds.
    Csv,
    /// One JSON object per line; times in epoch milliseconds.
    Json,
}

/// Ends the process with one sentence (exit code 1), leaving no output file that looks
/// complete. A closed pipe (`uba ... | head`) ends it quietly.
pub fn fail(message: &str) -> ! {
    failure::exit(&Failure::new(failure::FAILED, message))
}

fn io_failed(e: std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        failure::abandon_outputs();
        std::process::exit(failure::OK);
    }
    fail(&format!("cannot write the output: {e}"))
}

/// A duplicate of stdout for results; stdout itself then writes to stderr.
pub fn guarded_stdout() -> Result<File, String> {
    use std::os::fd::AsFd;
    let results = std::io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .map_err(|e| format!("cannot duplicate stdout: {e}"))?;
    // SAFETY: dup2 on the process's own standard descriptors, which stay open.
    if unsafe { libc::dup2(libc::STDERR_FILENO, libc::STDOUT_FILENO) } < 0 {
        return Err(format!(
            "cannot redirect stdout: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(File::from(results))
}

/// A result writer in one of the [`Format`]s.
pub struct Output {
    pub format: Format,
    /// `--settled`: each window is written once, with its final values, when it can no longer
    /// change (see [`crate::engine::sink::WindowPrinter`]).
    pub settled: bool,
    /// The zone in which the text format prints times.
    pub zone: UtcOffset,
    writer: Writer,
}

enum Writer {
    Plain(BufWriter<Box<dyn Write + Send>>),
    Csv(Box<csv::Writer<Box<dyn Write + Send>>>),
}

impl Output {
    /// Opens `path` (or stdout for `None` / `-`): a file that cannot be created is a clear error
    /// before the run starts.
    ///
    /// With `guard_stdout`, results written to stdout go to a duplicate of it, and stdout itself
    /// is pointed at stderr, so that nothing a library prints (timely's "awaiting connections"
    /// while a cluster starts) mixes with the results.
    pub fn open(
        path: Option<&str>,
        format: Format,
        zone: UtcOffset,
        guard_stdout: bool,
        progress: Display,
    ) -> Result<Self, String> {
        let terminal = std::io::stdout().is_terminal();
        let sink: Box<dyn Write + Send> = match path {
            None | Some("-") if guard_stdout => {
                progress::around_terminal(Box::new(guarded_stdout()?), terminal, progress)
            }
            None | Some("-") => {
                progress::around_terminal(Box::new(std::io::stdout()), terminal, progress)
            }
            Some(path) => Box::new(
                crate::engine::failure::create_staged(path)
                    .map_err(|e| format!("cannot create output file '{path}': {e}"))?,
            ),
        };
        let writer = match format {
            Format::Csv => Writer::Csv(Box::new(
                csv::WriterBuilder::new()
                    .buffer_capacity(1 << 16)
                    .from_writer(sink),
            )),
            Format::Text | Format::Json => Writer::Plain(BufWriter::with_capacity(1 << 16, sink)),
        };
        Ok(Output {
            format,
            settled: false,
            zone,
            writer,
        })
    }

    /// Writes one result row in the csv or json format; the first csv row also writes the header.
    pub fn row<S: Serialize>(&mut self, row: &S) {
        match &mut self.writer {
            Writer::Plain(w) => {
                serde_json::to_writer(&mut *w, row).unwrap_or_else(|e| match e.io_error_kind() {
                    Some(_) => io_failed(e.into()),
                    None => fail(&format!("cannot write json: {e}")),
                });
                w.write_all(b"\n").unwrap_or_else(|e| io_failed(e));
            }
            Writer::Csv(w) => w.serialize(row).unwrap_or_else(|e| match e.into_kind() {
                csv::ErrorKind::Io(e) => io_failed(e),
                other => fail(&format!("cannot write csv: {other:?}")),
            }),
        }
    }

    /// Writes one line of the text format.
    pub fn line(&mut self, text: &str) {
        let w: &mut dyn Write = match &mut self.writer {
            Writer::Plain(w) => w,
            Writer::Csv(_) => fail("internal error: a text line written to a csv output"),
        };
        w.write_all(text.as_bytes())
            .unwrap_or_else(|e| io_failed(e));
        w.write_all(b"\n").unwrap_or_else(|e| io_failed(e));
    }

    /// Formats a time for the text format.
    pub fn time(&self, ms: u64) -> String {
        crate::engine::time_fmt::format_ms(ms, self.zone)
    }

    /// Pushes what was written so far: called when a logical time is complete, so that a live
    /// stream shows each window as soon as it fires.
    pub fn flush(&mut self) {
        match &mut self.writer {
            Writer::Plain(w) => w.flush(),
            Writer::Csv(w) => w.flush(),
        }
        .unwrap_or_else(|e| io_failed(e));
    }
}
