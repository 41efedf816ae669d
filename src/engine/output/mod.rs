//! Where results go, and in which format: `text` for people, `csv` and `json` for programs.
//!
//! Only global worker 0 owns an [`Output`]: results are gathered there, so a cluster writes one
//! output with one csv header (`docs/event-time.md`, "Output"). A `--sink` database is a
//! [`table::Table`], written through [`database`]. This stage imports only
//! [`time`](super::time) and [`status`](super::status); it knows nothing of the inputs.

/// The `Serializer` methods that a row writer refuses, each answering `$refuse(its name)`: csv
/// rows ([`csv_row`]) and table rows ([`table_row`]) take a struct of plain values and refuse the
/// other shapes, each writer with its own error. A method generic over a value is written
/// `<T> name(...)`.
macro_rules! refuse {
    ($refuse:expr => $($(<$value:ident>)? $method:ident($($arg:ty),*) -> $ret:ty;)*) => {
        $(fn $method$(<$value: ?Sized + serde::Serialize>)?(
            self,
            $(_: $arg),*
        ) -> Result<$ret, Self::Error> {
            $refuse(stringify!($method))
        })*
    };
}

mod csv_row;
pub mod database;
pub mod table;
pub mod table_row;

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};

use serde::Serialize;

use crate::engine::output::table::Table;
use crate::engine::status::failure::fail;
use crate::engine::status::live::Publisher;
use crate::engine::status::progress::{self, Display};
use crate::engine::time::time_fmt::Zone;

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

fn io_failed(e: std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        // `uba ... | head`: the results are incomplete, and a script must be able to tell.
        fail("the reader of the output stopped reading (broken pipe): the results are incomplete")
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

/// A result writer in one of the [`Format`]s, and/or a database table (`--sink`).
pub struct Output {
    pub format: Format,
    /// `--settled`: each window is written once, with its final values, when it can no longer
    /// change (the window sinks read it; this stage only carries it).
    pub settled: bool,
    /// The zone in which the text format prints times.
    pub zone: Zone,
    /// The stream of results: stdout or `--output`; none when a `--sink` alone was asked for.
    writer: Option<Writer>,
    table: Option<Table>,
    /// `--http`: the latest rows, for the live page.
    live: Option<Publisher>,
}

enum Writer {
    Plain(BufWriter<Box<dyn Write + Send>>),
    Csv(Box<CsvStream>),
}

/// The csv stream: the rows that [`csv_row`] writes directly (flat, nothing to quote: nearly
/// all) are appended as they are; the header and any other row are written by the csv crate, so
/// every byte is the crate's.
struct CsvStream {
    out: BufWriter<Box<dyn Write + Send>>,
    line: Vec<u8>,
    /// The csv crate wrote the first row (and the header before it, for a struct).
    headed: bool,
}

impl CsvStream {
    fn serialize<S: Serialize>(&mut self, row: &S) -> Result<(), csv::Error> {
        if self.headed {
            self.line.clear();
            if csv_row::write(row, &mut self.line).is_ok() {
                self.out.write_all(&self.line)?;
                return Ok(());
            }
        }
        // Into `line`, then the stream: the crate's own flush would push the stream's buffer.
        self.line.clear();
        // A small buffer: not the crate's default 8 KiB, zeroed for every such row.
        let mut csv = csv::WriterBuilder::new()
            .has_headers(!self.headed)
            .buffer_capacity(256)
            .from_writer(&mut self.line);
        csv.serialize(row)?;
        csv.flush()?;
        drop(csv);
        self.out.write_all(&self.line)?;
        self.headed = true;
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

impl Output {
    /// Opens `path` (or stdout for `None` / `-`): a file that cannot be created is a clear error
    /// before the run starts.
    ///
    /// With `guard_stdout`, results written to stdout go to a duplicate of it, and stdout itself
    /// is pointed at stderr, so that nothing a library prints (timely's own connection set-up
    /// printed "awaiting connections") mixes with the results.
    pub fn open(
        path: Option<&str>,
        format: Format,
        zone: Zone,
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
                crate::engine::status::failure::create_staged(path)
                    .map_err(|e| format!("cannot create output file '{path}': {e}"))?,
            ),
        };
        let writer = match format {
            Format::Csv => Writer::Csv(Box::new(CsvStream {
                out: BufWriter::with_capacity(1 << 16, sink),
                line: Vec::new(),
                headed: false,
            })),
            Format::Text | Format::Json => Writer::Plain(BufWriter::with_capacity(1 << 16, sink)),
        };
        Ok(Output {
            format,
            settled: false,
            zone,
            writer: Some(writer),
            table: None,
            live: None,
        })
    }

    /// An output that writes only to a database table.
    pub fn table_only(format: Format, zone: Zone, table: Table) -> Self {
        Output {
            format,
            settled: false,
            zone,
            writer: None,
            table: Some(table),
            live: None,
        }
    }

    /// Hands the rows of each completed time to the live page too (`--http`).
    pub fn with_live_page(mut self) -> Self {
        self.live = Some(Publisher::default());
        self
    }

    /// Writes results to `table` as well.
    pub fn with_table(mut self, table: Table) -> Self {
        self.table = Some(table);
        self
    }

    /// Whether the text format is written: sinks skip formatting text otherwise.
    pub fn wants_text(&self) -> bool {
        self.format == Format::Text && self.writer.is_some()
    }

    /// Whether rows ([`Output::row`]) are written: to csv or json, to a table, or to the live
    /// page.
    pub fn wants_rows(&self) -> bool {
        self.format != Format::Text && self.writer.is_some()
            || self.table.is_some()
            || self.live.is_some()
    }

    /// Tells a table that the rows which follow, until the next group or [`Output::done`], are
    /// all the rows whose `column` is `value` (a window's result, a user's profile): they replace
    /// the rows it held. `ranked`: the group may hold several rows, told apart by their `rank`.
    /// The stream formats ignore it: they write each emission in full anyway.
    pub fn replace(&mut self, column: &'static str, value: u64, ranked: bool) {
        if let Some(table) = &mut self.table {
            table.replace(column, value, ranked);
        }
    }

    /// Rows written next go to the job's table with this suffix (`None`: the job's own table).
    pub fn section(&mut self, section: Option<&'static str>) {
        if let Some(table) = &mut self.table {
            table.section(section);
        }
        if let Some(live) = &mut self.live {
            live.section(section);
        }
    }

    /// Writes one row of the csv or json stream only, not to a table: a row that says a result
    /// is gone, which a table says by not holding it.
    pub fn stream_row<S: Serialize>(&mut self, row: &S) {
        if self.format == Format::Text {
            return;
        }
        match &mut self.writer {
            Some(Writer::Plain(w)) => {
                serde_json::to_writer(&mut *w, row).unwrap_or_else(|e| match e.io_error_kind() {
                    Some(_) => io_failed(e.into()),
                    None => fail(&format!("cannot write json: {e}")),
                });
                w.write_all(b"\n").unwrap_or_else(|e| io_failed(e));
            }
            Some(Writer::Csv(w)) => w.serialize(row).unwrap_or_else(|e| match e.into_kind() {
                csv::ErrorKind::Io(e) => io_failed(e),
                other => fail(&format!("cannot write csv: {other:?}")),
            }),
            None => {}
        }
    }

    /// The table's summary line, if results go to one.
    pub fn table_summary(&self) -> Option<String> {
        self.table.as_ref().map(Table::summary)
    }

    /// Marks the results complete in the table: the inputs ended and all was written.
    pub fn finish(&mut self) {
        if let Some(table) = &mut self.table
            && let Err(e) = table.finish()
        {
            fail(&e);
        }
    }

    /// The table of `--sink`, if any.
    pub fn table_mut(&mut self) -> Option<&mut Table> {
        self.table.as_mut()
    }

    /// Writes one result row in the csv or json format (the first csv row also writes the header),
    /// and to the table, if any.
    pub fn row<S: Serialize>(&mut self, row: &S) {
        crate::engine::status::metrics::row_emitted();
        self.stream_row(row);
        if let Some(live) = &mut self.live {
            match live.wants_row().then(|| serde_json::to_string(row)) {
                Some(Ok(json)) => live.row(json),
                _ => live.skip(),
            }
        }
        if let Some(table) = &mut self.table
            && let Err(e) = table.row(row)
        {
            fail(&format!("cannot write a row to the table: {e}"));
        }
    }

    /// Writes one line of the text format.
    pub fn line(&mut self, text: &str) {
        let w: &mut dyn Write = match &mut self.writer {
            Some(Writer::Plain(w)) => w,
            Some(Writer::Csv(_)) => fail("internal error: a text line written to a csv output"),
            None => return,
        };
        w.write_all(text.as_bytes())
            .unwrap_or_else(|e| io_failed(e));
        w.write_all(b"\n").unwrap_or_else(|e| io_failed(e));
    }

    /// Formats a time for the text format.
    pub fn time(&self, ms: u64) -> String {
        crate::engine::time::time_fmt::format_ms(ms, self.zone.offset_at(ms))
    }

    /// Ends logical time `time`; its rows are pushed to the stream and the table by the next
    /// [`Output::commit`], after the batch of times that completed at once.
    pub fn done(&mut self, time: u64) {
        if let Some(live) = &mut self.live {
            live.done(time);
        }
        if let Some(table) = &mut self.table
            && let Err(e) = table.time_done(time)
        {
            fail(&e);
        }
    }

    /// Pushes the rows written so far to the stream; a write that fails ends the run.
    fn flush(&mut self) {
        match &mut self.writer {
            Some(Writer::Plain(w)) => w.flush(),
            Some(Writer::Csv(w)) => w.flush(),
            None => Ok(()),
        }
        .unwrap_or_else(|e| io_failed(e));
    }

    /// Pushes what was written to the stream, so that a live stream shows each window as soon as
    /// it fires, and commits the completed times written since the last commit to the table, in
    /// one transaction: called after each batch of times the sink completed at once. One push
    /// per batch, not per time: order-timeout's results fall on most seconds of its input (200k
    /// lines: 113,605 `write`s with a push per time and per row, 116 now).
    pub fn commit(&mut self) {
        self.flush();
        if let Some(table) = &mut self.table
            && let Err(e) = table.commit()
        {
            fail(&e);
        }
    }
}

impl Drop for Output {
    /// The run ended (the dataflow that wrote here is gone): what a sink wrote after its last
    /// commit (a snapshot, an evaluation at the end of input) is pushed, and the table is
    /// complete, unless a worker failed.
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        self.flush();
        if self.table.is_none() {
            return;
        }
        self.finish();
        if let Some(summary) = self.table_summary() {
            crate::engine::status::progress::eprint_line(&format!("uba: {summary}"));
        }
    }
}
