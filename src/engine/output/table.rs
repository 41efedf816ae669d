//! `--sink`: results kept in a database table that always holds the answer, and `--resume`.
//!
//! The sinks already write in time order, each completed time once; a table is one more place to
//! write them. The changes of the times a sink completes at once (one input batch) go in one
//! transaction together with the job's progress row (`uba_progress`: job, arguments, inputs, the
//! last committed time), so a reader never sees half of a window, and a killed run leaves the
//! table exactly as of its last commit.
//!
//! What the table holds mirrors the output's identity of a result (`docs/sinks.md`, "What a
//! table holds"):
//! - a *group* (a window's result, a user's profile) replaces all rows of its key: rows are
//!   updated in place, a rank that disappears is deleted; key `(window_end, rank)` or `(user_id)`;
//! - an *appended* row (a pattern's outcome, a blacklisting) is inserted with `seq`, its position
//!   in the job's output (its line in the csv output): outcomes have no other identity (an order
//!   may be paid twice).
//!
//! Resume is exactly-once without snapshots because the output is a deterministic function of the
//! input files: `--resume` replays the inputs and writes nothing for the times already committed.

use std::collections::HashMap;

use crate::engine::output::database::{self, Database};
use crate::engine::output::table_row::{Column, SqlType, SqlValue, columns};
use crate::engine::status::invocation::{self, build, invocation};

/// What a resumed run must share with the run it resumes.
#[derive(Clone, Debug, PartialEq)]
struct Fingerprint {
    job: String,
    arguments: String,
    inputs: String,
}

/// A key of the rows that follow in a time: they are all the rows with this value.
#[derive(Clone, Copy)]
struct Group {
    column: &'static str,
    value: u64,
    generation: u64,
    /// Whether a group holds several rows, told apart by `rank` (added when the row has none).
    ranked: bool,
    next_rank: i64,
}

/// How many parameters one statement binds at most (SQLite allows 32,766, PostgreSQL 65,535).
const CHUNK_PARAMS: usize = 8192;

/// At most this many changes wait in memory for a commit (about 750 bytes each).
const BATCH_CAP: usize = 20_000;

/// The sizes of the statements that write `n` rows, at most `most` a statement: as many of
/// `most` as fit, then the rest in powers of two, largest first. Only `most` and the powers of
/// two below it occur, so a database that prepares each statement text (PostgreSQL) holds a few
/// dozen, not one per batch size.
fn statement_sizes(n: usize, most: usize) -> impl Iterator<Item = usize> {
    let full = n / most;
    let rest = n % most;
    std::iter::repeat_n(most, full).chain(
        (0..usize::BITS)
            .rev()
            .map(|bit| 1usize << bit)
            .filter(move |size| rest & size != 0),
    )
}

enum Op {
    /// The rows of this group that follow (in the same time) replace the ones it had.
    Replace {
        table: String,
        column: &'static str,
        value: i64,
        /// Which replacement of the run this is: the last one of a batch wins.
        generation: u64,
    },
    Insert {
        table: String,
        key: Vec<&'static str>,
        columns: Vec<Column>,
        /// The group's `(column, value, generation)`; `None` for an appended row.
        group: Option<(&'static str, i64, u64)>,
    },
}

/// The last replacement of each group among `ops`: the one whose rows are written.
fn latest_generations(ops: &[Op]) -> HashMap<(String, &'static str, i64), u64> {
    let mut latest = HashMap::new();
    for op in ops {
        if let Op::Replace {
            table,
            column,
            value,
            generation,
        } = op
        {
            latest.insert((table.clone(), *column, *value), *generation);
        }
    }
    latest
}

/// `ops` without the replacements a later one in `ops` supersedes, nor their rows: the batch's
/// net effect, which is all a commit writes.
fn net(ops: Vec<Op>) -> Vec<Op> {
    let latest = latest_generations(&ops);
    ops.into_iter()
        .filter(|op| match op {
            Op::Replace {
                table,
                column,
                value,
                generation,
            } => latest[&(table.clone(), *column, *value)] == *generation,
            // A group whose replacement was written ahead has none here: its rows stay.
            Op::Insert {
                table,
                group: Some((column, value, generation)),
                ..
            } => latest
                .get(&(table.clone(), *column, *value))
                .is_none_or(|g| g == generation),
            Op::Insert { group: None, .. } => true,
        })
        .collect()
}

/// The results of one job in a database: its table(s) and its progress row.
pub struct Table {
    db: Box<dyn Database>,
    /// `sqlite:results.db`: how messages name the database.
    sink: String,
    base: String,
    section: Option<&'static str>,
    fingerprint: Fingerprint,
    /// Tables that exist: created by this run, or by the run it resumes. The progress row lists
    /// them, so that a later fresh run drops them.
    tables: Vec<String>,
    /// A fresh run's predecessor's tables (its progress row lists them): dropped in this run's
    /// first transaction, so that they stay readable until there is something to replace them
    /// with, and a run that fails before it commits leaves them as they were.
    previous: Vec<String>,
    replace_previous: bool,
    /// The inputs of the run this one resumes, until `agree_on_inputs` compares them.
    recorded_inputs: Option<String>,
    /// Where the inputs of the run this one resumes can be read again from, as its last commit
    /// recorded them (`status::checkpoints`); empty when none was.
    checkpoints: String,
    /// A transaction is open: changes were written ahead of the commit that will end it.
    open: bool,
    /// The batch's length at which it is next reduced to its net effect ([`net`]).
    batch_limit: usize,
    /// The times a resumed run had committed are past (or it resumes nothing): the changes now
    /// written are to be committed, and may be written ahead.
    past_resume: bool,
    generation: u64,
    group: Option<Group>,
    seq: HashMap<String, i64>,
    ops: Vec<Op>,
    /// The changes of the completed times not yet committed, and the last of those times.
    batch: Vec<Op>,
    batch_time: Option<u64>,
    /// Times up to this one were committed by the run this one resumes.
    resumed_through: Option<u64>,
    committed: Option<u64>,
    pub transactions: u64,
    pub rows_written: u64,
}

const PROGRESS: &str = "uba_progress";

impl Table {
    /// Opens `sink` for the job's table (`table`, or the job's name), reading inputs `inputs`.
    /// Without `resume` the job's previous tables are replaced at the first commit; with it, the
    /// progress row must match this run's job and arguments (and its inputs: `agree_on_inputs`).
    pub fn open(
        sink: &str,
        table: Option<&str>,
        resume: bool,
        inputs: &[String],
    ) -> Result<Self, String> {
        let (job, args) = invocation();
        let base = table
            .map(str::to_owned)
            .unwrap_or_else(|| job.replace('-', "_"));
        if base.is_empty() || !base.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "--table '{base}' must be letters, digits and underscores"
            ));
        }
        let fingerprint = Fingerprint {
            job: format!("{job}, {}", build()),
            arguments: invocation::result_arguments(&args, inputs, &[]),
            // Known once every process has announced its inputs: `agree_on_inputs`.
            inputs: String::new(),
        };
        let mut db = database::open(sink)?;
        let shown = database::redacted(sink);
        let failed = |e: String| format!("cannot write to {shown}: {e}");
        db.batch(&format!(
            "CREATE TABLE IF NOT EXISTS {PROGRESS} (
                table_name TEXT PRIMARY KEY,
                job TEXT NOT NULL,
                arguments TEXT NOT NULL,
                inputs TEXT NOT NULL,
                tables TEXT NOT NULL,
                committed_time {int} NOT NULL,
                complete BOOLEAN NOT NULL,
                checkpoints TEXT NOT NULL DEFAULT '',
                numbering TEXT NOT NULL DEFAULT ''
            )",
            int = db.type_name(SqlType::Integer)
        ))
        .map_err(failed)?;
        // A progress table from a build before checkpoints were kept gets their columns.
        if db
            .query_row(&format!("SELECT checkpoints FROM {PROGRESS} LIMIT 1"), &[])
            .is_err()
        {
            db.batch(&format!(
                "ALTER TABLE {PROGRESS} ADD COLUMN checkpoints TEXT NOT NULL DEFAULT '';
                 ALTER TABLE {PROGRESS} ADD COLUMN numbering TEXT NOT NULL DEFAULT ''"
            ))
            .map_err(failed)?;
        }
        // Nothing is written before the first commit: find out now that the database cannot be
        // written (a read-only file, no rights), before the run starts, as a file that cannot
        // be created is found.
        db.batch("BEGIN").map_err(failed)?;
        let probe = db.execute(
            &format!(
                "INSERT INTO {PROGRESS} (table_name, job, arguments, inputs, tables, committed_time, complete)
                 VALUES ($1, '', '', '', '', 0, $2)"
            ),
            &[SqlValue::Text(" uba write probe".into()), SqlValue::Boolean(false)],
        );
        let _ = db.batch("ROLLBACK");
        probe.map_err(failed)?;
        let previous = db
            .query_row(
                &format!(
                    "SELECT job, arguments, inputs, tables, CAST(committed_time AS TEXT), checkpoints, numbering FROM {PROGRESS} WHERE table_name = $1"
                ),
                &[SqlValue::Text(base.clone())],
            )
            .map_err(failed)?;
        let mut table = Table {
            db,
            sink: database::redacted(sink),
            base: base.clone(),
            section: None,
            fingerprint,
            tables: Vec::new(),
            previous: Vec::new(),
            replace_previous: false,
            recorded_inputs: None,
            checkpoints: String::new(),
            open: false,
            batch_limit: BATCH_CAP,
            past_resume: true,
            generation: 0,
            group: None,
            seq: HashMap::new(),
            ops: Vec::new(),
            batch: Vec::new(),
            batch_time: None,
            resumed_through: None,
            committed: None,
            transactions: 0,
            rows_written: 0,
        };
        let previous = previous.map(|row| {
            let text = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
            (
                Fingerprint {
                    job: text(0),
                    arguments: text(1),
                    inputs: text(2),
                },
                text(3),
                text(4).parse::<u64>().ok(),
                (text(5), text(6)),
            )
        });
        match previous {
            Some((recorded, tables, committed, (checkpoints, numbering))) if resume => {
                table.check_resumable(&recorded)?;
                table.checkpoints = checkpoints;
                if !numbering.is_empty() {
                    table.seq = serde_json::from_str(&numbering).map_err(|e| {
                        format!("cannot resume: the progress row's numbering cannot be read: {e}")
                    })?;
                }
                table.recorded_inputs = Some(recorded.inputs);
                table.tables = tables
                    .split(',')
                    .filter(|t| !t.is_empty())
                    .map(String::from)
                    .collect();
                table.resumed_through = committed;
                table.committed = committed;
                table.past_resume = committed.is_none();
            }
            previous => {
                // A fresh run replaces the results of an earlier one at its first commit, and
                // only tables an earlier run wrote: one that no progress row lists is not ours.
                table.previous = previous
                    .map(|(_, tables, _, _)| {
                        tables
                            .split(',')
                            .filter(|t| !t.is_empty())
                            .map(String::from)
                            .collect()
                    })
                    .unwrap_or_default();
                table.replace_previous = true;
                table.refuse_foreign(&base)?;
            }
        }
        Ok(table)
    }

    /// A table this run would create that exists although no earlier run of this job wrote it
    /// (someone's `users` table, say) is refused, never dropped.
    fn refuse_foreign(&mut self, table: &str) -> Result<(), String> {
        if self.previous.iter().any(|t| t == table) {
            return Ok(());
        }
        let sink = self.sink.clone();
        if self
            .db
            .has_table(table)
            .map_err(|e| format!("cannot read {sink}: {e}"))?
        {
            return Err(format!(
                "table '{table}' in {sink} was not written by this job (no row of {PROGRESS} lists it): \
                 uba never drops a table it did not write; name another with --table, or drop it yourself"
            ));
        }
        Ok(())
    }

    /// In a fresh run's first transaction: drops the tables of the run it replaces.
    fn drop_previous(&mut self) -> Result<(), String> {
        if !std::mem::take(&mut self.replace_previous) {
            return Ok(());
        }
        let sql: String = self
            .previous
            .iter()
            .map(|t| format!("DROP TABLE IF EXISTS \"{t}\";"))
            .collect();
        if sql.is_empty() {
            return Ok(());
        }
        self.db.batch(&sql)
    }

    /// The inputs of every process of the run, fingerprinted (every byte of each): recorded with
    /// each commit, and for `--resume` the same as those of the run it resumes. Called before
    /// anything is written.
    pub fn agree_on_inputs(&mut self, inputs: String) -> Result<(), String> {
        self.fingerprint.inputs = inputs;
        match self.recorded_inputs.take() {
            Some(recorded) if recorded != self.fingerprint.inputs => Err(format!(
                "cannot resume: table '{}' in {} was written by another run (inputs of {recorded}, \
                 these are {}); run without --resume to start over",
                self.base, self.sink, self.fingerprint.inputs
            )),
            _ => Ok(()),
        }
    }

    fn check_resumable(&self, recorded: &Fingerprint) -> Result<(), String> {
        let here = &self.fingerprint;
        let name = |job: &str| job.split(", ").next().unwrap_or_default().to_owned();
        let what = if name(&recorded.job) == name(&here.job) && recorded.job != here.job {
            let build = |job: &str| {
                job.split_once(", ")
                    .map_or(String::new(), |(_, b)| b.into())
            };
            format!(
                "{}; this is {}: results of two builds are never mixed",
                build(&recorded.job),
                build(&here.job)
            )
        } else if recorded.job != here.job {
            format!("job `{}`, this is `{}`", recorded.job, here.job)
        } else if recorded.arguments != here.arguments {
            format!(
                "arguments `{}`, these are `{}`",
                recorded.arguments, here.arguments
            )
        } else {
            return Ok(());
        };
        Err(format!(
            "cannot resume: table '{}' in {} was written by another run ({what}); run without --resume to start over",
            self.base, self.sink
        ))
    }

    /// Where the resumed run's inputs can be read again from (`status::checkpoints`' JSON);
    /// empty for a fresh run or when it recorded none.
    pub fn checkpoints(&self) -> &str {
        &self.checkpoints
    }

    /// The logical time through which the run this one resumes had committed its results.
    pub fn resumed_through(&self) -> Option<u64> {
        self.resumed_through
    }

    /// Rows written next go to the job's table with this suffix (`ad_stats_blacklist`), or to the
    /// job's own table (`None`).
    pub fn section(&mut self, section: Option<&'static str>) {
        self.section = section;
        self.group = None;
    }

    fn table_name(&self) -> String {
        match self.section {
            Some(s) => format!("{}_{s}", self.base),
            None => self.base.clone(),
        }
    }

    /// The rows that follow (until the next group or commit) are all the rows whose `column` is
    /// `value`: the ones before are deleted. `ranked`: a group may hold several rows.
    pub fn replace(&mut self, column: &'static str, value: u64, ranked: bool) {
        self.generation += 1;
        self.group = Some(Group {
            column,
            value,
            generation: self.generation,
            ranked,
            next_rank: 1,
        });
        self.ops.push(Op::Replace {
            table: self.table_name(),
            column,
            value: value as i64,
            generation: self.generation,
        });
    }

    /// Writes one row: into the current group, or appended.
    pub fn row<S: serde::Serialize>(&mut self, row: &S) -> Result<(), String> {
        let mut cols = columns(row)?;
        let table = self.table_name();
        let key = match &mut self.group {
            Some(group) => {
                if !cols.iter().any(|c| c.0 == group.column) {
                    cols.insert(
                        0,
                        (
                            group.column,
                            SqlType::Integer,
                            SqlValue::Integer(group.value as i64),
                        ),
                    );
                }
                if group.ranked {
                    if !cols.iter().any(|c| c.0 == "rank") {
                        let after = cols.iter().position(|c| c.0 == group.column).unwrap_or(0);
                        cols.insert(
                            after + 1,
                            ("rank", SqlType::Integer, SqlValue::Integer(group.next_rank)),
                        );
                    }
                    group.next_rank += 1;
                    vec![group.column, "rank"]
                } else {
                    vec![group.column]
                }
            }
            None => {
                // Numbered once its time is known to be past the resumed run's ([`Table::time_done`]).
                let seq = if self.past_resume {
                    self.next_seq(&table)
                } else {
                    0
                };
                cols.insert(0, ("seq", SqlType::Integer, SqlValue::Integer(seq)));
                vec!["seq"]
            }
        };
        let group = self.group.map(|g| (g.column, g.value as i64, g.generation));
        self.ops.push(Op::Insert {
            table,
            key,
            columns: cols,
            group,
        });
        // One time's rows can be many (a snapshot of every user): once past the times a resumed
        // run had committed, they too count towards the batch's bound.
        if self.ops.len() + self.batch.len() >= self.batch_limit && self.past_resume {
            let ops = std::mem::take(&mut self.ops);
            self.batch.extend(ops);
            return self.bound_batch();
        }
        Ok(())
    }

    /// Ends logical time `time`: its changes join the batch of the next [`Table::commit`].
    /// Changes of times the resumed run had committed are dropped. A batch of more than
    /// [`BATCH_CAP`] changes is written ahead, inside the transaction the commit will end, so the
    /// memory a batch holds is bounded (a snapshot of millions of users is one commit).
    pub fn time_done(&mut self, time: u64) -> Result<(), String> {
        self.group = None;
        let mut ops = std::mem::take(&mut self.ops);
        if self.resumed_through.is_some_and(|t| time <= t) || ops.is_empty() {
            return Ok(());
        }
        if !self.past_resume {
            // The first time after the resumed run's: its appended rows follow the numbers
            // that run committed (a replay's earlier times, not committed, number nothing).
            for op in &mut ops {
                if let Op::Insert {
                    table,
                    columns,
                    group: None,
                    ..
                } = op
                {
                    columns[0].2 = SqlValue::Integer(self.next_seq(table));
                }
            }
        }
        self.batch.extend(ops);
        self.batch_time = Some(time);
        self.past_resume = true;
        self.bound_batch()
    }

    /// The number of the next row appended to `table`: its place among the job's outcomes.
    fn next_seq(&mut self, table: &str) -> i64 {
        let seq = self.seq.entry(table.to_owned()).or_insert(0);
        *seq += 1;
        *seq
    }

    /// Keeps the batch within its bound: reduced to its net effect when it reaches its limit,
    /// and written ahead (inside the transaction its commit will end) when that is still large.
    fn bound_batch(&mut self) -> Result<(), String> {
        if self.batch.len() < self.batch_limit {
            return Ok(());
        }
        // Superseded replacements go first (a user's list changed a thousand times in a batch
        // is one list); only a net effect this large is written ahead.
        self.batch = net(std::mem::take(&mut self.batch));
        self.batch_limit = BATCH_CAP.max(2 * self.batch.len());
        if self.batch.len() < BATCH_CAP || crate::engine::status::stop::results_withheld() {
            return Ok(());
        }
        self.batch_limit = BATCH_CAP;
        let ops = std::mem::take(&mut self.batch);
        let sink = self.sink.clone();
        self.begin()
            .and_then(|()| self.write(ops))
            .map_err(|e| self.rolled_back(format!("cannot write to {sink}: {e}")))
    }

    /// Opens the transaction the next commit ends, if none is open; a fresh run's first one
    /// drops the tables of the run it replaces.
    fn begin(&mut self) -> Result<(), String> {
        if !self.open {
            self.db.batch("BEGIN")?;
            self.open = true;
            self.drop_previous()?;
        }
        Ok(())
    }

    /// Rolls the open transaction back, after `error`.
    fn rolled_back(&mut self, error: String) -> String {
        if std::mem::take(&mut self.open) {
            let _ = self.db.batch("ROLLBACK");
        }
        error
    }

    /// Writes the completed times since the last commit, and the progress row, in one
    /// transaction: a reader sees all of a time's changes or none.
    pub fn commit(&mut self) -> Result<(), String> {
        let ops = std::mem::take(&mut self.batch);
        self.batch_limit = BATCH_CAP;
        let Some(time) = self.batch_time.take() else {
            return Ok(());
        };
        // After Ctrl-C the pending windows fire as if the input had ended: that is not the answer
        // a resumed run would give, so nothing more is committed (nor when the run will fail).
        if crate::engine::status::stop::results_withheld() {
            let _ = self.rolled_back(String::new());
            return Ok(());
        }
        let sink = self.sink.clone();
        let started = std::time::Instant::now();
        self.transaction(time, ops)
            .map_err(|e| self.rolled_back(format!("cannot write to {sink}: {e}")))?;
        crate::engine::status::metrics::committed(&self.base, started.elapsed(), time);
        Ok(())
    }

    fn transaction(&mut self, time: u64, ops: Vec<Op>) -> Result<(), String> {
        self.begin()?;
        self.write(ops)?;
        self.progress(time, false)?;
        self.db.batch("COMMIT")?;
        self.open = false;
        self.transactions += 1;
        self.committed = Some(time);
        Ok(())
    }

    /// Writes a batch's net effect: a group replaced several times in the batch (a window
    /// corrected at several times) is written once, as it stands at the end, since no reader
    /// sees inside the transaction. Deletes and inserts go in multi-row statements: one round
    /// trip for many rows, which is what a server over a socket needs; their sizes are few
    /// ([`statement_sizes`]), so that PostgreSQL prepares few statements.
    fn write(&mut self, ops: Vec<Op>) -> Result<(), String> {
        let latest = latest_generations(&ops);
        // Deletes per (table, column), in first-seen order; rows per table, in order.
        let mut deletes: Vec<((String, &'static str), Vec<i64>)> = Vec::new();
        let mut inserts: Vec<(String, Vec<&'static str>, Vec<Vec<Column>>)> = Vec::new();
        for op in ops {
            match op {
                Op::Replace {
                    table,
                    column,
                    value,
                    generation,
                } => {
                    if latest[&(table.clone(), column, value)] != generation || !self.exists(&table)
                    {
                        continue;
                    }
                    match deletes
                        .iter_mut()
                        .find(|(k, _)| k.0 == table && k.1 == column)
                    {
                        Some((_, values)) => values.push(value),
                        None => deletes.push(((table, column), vec![value])),
                    }
                }
                Op::Insert {
                    table,
                    key,
                    columns,
                    group,
                } => {
                    if let Some((column, value, generation)) = group
                        && latest
                            .get(&(table.clone(), column, value))
                            .is_some_and(|g| *g != generation)
                    {
                        continue;
                    }
                    match inserts.iter_mut().find(|(t, _, _)| *t == table) {
                        Some((_, _, rows)) => rows.push(columns),
                        None => inserts.push((table, key, vec![columns])),
                    }
                }
            }
        }
        for ((table, column), values) in deletes {
            for chunk in statement_sizes(values.len(), CHUNK_PARAMS).scan(&values[..], |rest, n| {
                let (chunk, tail) = rest.split_at(n);
                *rest = tail;
                Some(chunk)
            }) {
                let list: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
                let params: Vec<SqlValue> = chunk.iter().map(|v| SqlValue::Integer(*v)).collect();
                self.db.execute(
                    &format!(
                        "DELETE FROM \"{table}\" WHERE \"{column}\" IN ({})",
                        list.join(", ")
                    ),
                    &params,
                )?;
            }
        }
        for (table, key, rows) in inserts {
            if !self.exists(&table) {
                self.create(&table, &key, &rows[0])?;
            }
            let names: Vec<String> = rows[0].iter().map(|c| format!("\"{}\"", c.0)).collect();
            let width = names.len();
            let most = (CHUNK_PARAMS / width).max(1);
            for chunk in statement_sizes(rows.len(), most).scan(&rows[..], |rest, n| {
                let (chunk, tail) = rest.split_at(n);
                *rest = tail;
                Some(chunk)
            }) {
                let tuples: Vec<String> = (0..chunk.len())
                    .map(|r| {
                        let cells: Vec<String> =
                            (1..=width).map(|c| format!("${}", r * width + c)).collect();
                        format!("({})", cells.join(", "))
                    })
                    .collect();
                let params: Vec<SqlValue> = chunk
                    .iter()
                    .flat_map(|row| row.iter().map(|c| c.2.clone()))
                    .collect();
                self.db.execute(
                    &format!(
                        "INSERT INTO \"{table}\" ({}) VALUES {}",
                        names.join(", "),
                        tuples.join(", ")
                    ),
                    &params,
                )?;
                self.rows_written += chunk.len() as u64;
            }
        }
        Ok(())
    }

    fn exists(&self, table: &str) -> bool {
        self.tables.iter().any(|t| t == table)
    }

    fn create(&mut self, table: &str, key: &[&str], columns: &[Column]) -> Result<(), String> {
        let defs: Vec<String> = columns
            .iter()
            .map(|(name, ty, _)| {
                let not_null = if key.contains(name) { " NOT NULL" } else { "" };
                format!("\"{name}\" {}{not_null}", self.db.type_name(*ty))
            })
            .collect();
        let key: Vec<String> = key.iter().map(|k| format!("\"{k}\"")).collect();
        self.refuse_foreign(table)?;
        self.db.batch(&format!(
            "DROP TABLE IF EXISTS \"{table}\"; CREATE TABLE \"{table}\" ({}, PRIMARY KEY ({}))",
            defs.join(", "),
            key.join(", ")
        ))?;
        if !self.exists(table) {
            self.tables.push(table.to_owned());
        }
        Ok(())
    }

    fn progress(&mut self, time: u64, complete: bool) -> Result<(), String> {
        let f = &self.fingerprint;
        let numbering: std::collections::BTreeMap<_, _> = self.seq.iter().collect();
        let params = [
            SqlValue::Text(self.base.clone()),
            SqlValue::Text(f.job.clone()),
            SqlValue::Text(f.arguments.clone()),
            SqlValue::Text(f.inputs.clone()),
            SqlValue::Text(self.tables.join(",")),
            SqlValue::Integer(time.min(i64::MAX as u64) as i64),
            SqlValue::Boolean(complete),
            SqlValue::Text(crate::engine::status::checkpoints::eligible(time)),
            SqlValue::Text(serde_json::to_string(&numbering).expect("a map of numbers")),
        ];
        self.db.execute(
            &format!(
                "INSERT INTO {PROGRESS} (table_name, job, arguments, inputs, tables, committed_time, complete, checkpoints, numbering)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 ON CONFLICT (table_name) DO UPDATE SET job = excluded.job, arguments = excluded.arguments,
                   inputs = excluded.inputs, tables = excluded.tables,
                   committed_time = excluded.committed_time, complete = excluded.complete,
                   checkpoints = excluded.checkpoints, numbering = excluded.numbering"
            ),
            &params,
        )?;
        Ok(())
    }

    /// Marks the results complete (the inputs ended and everything was written).
    pub fn finish(&mut self) -> Result<(), String> {
        self.commit()?;
        if crate::engine::status::stop::results_withheld() {
            return Ok(());
        }
        let time = self.committed.unwrap_or(0);
        let sink = self.sink.clone();
        let written = (|| -> Result<(), String> {
            self.begin()?;
            self.progress(time, true)?;
            self.db.batch("COMMIT")?;
            self.open = false;
            Ok(())
        })();
        written.map_err(|e| self.rolled_back(format!("cannot write to {sink}: {e}")))
    }

    /// What the run wrote, for the summary on stderr.
    pub fn summary(&self) -> String {
        let resumed = match self.resumed_through {
            Some(t) => format!(" (resumed after time {t})"),
            None => String::new(),
        };
        format!(
            "{}: {} rows written in {} transactions to {}{resumed}",
            self.sink,
            self.rows_written,
            self.transactions,
            if self.tables.is_empty() {
                format!("table {} (no results)", self.base)
            } else {
                format!("table {}", self.tables.join(", "))
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::statement_sizes;

    #[test]
    fn statements_come_in_few_sizes_that_add_up() {
        for n in [0, 1, 7, 8192, 8193, 20_000, 123_457] {
            let sizes: Vec<usize> = statement_sizes(n, 8192).collect();
            assert_eq!(sizes.iter().sum::<usize>(), n);
            assert!(
                sizes
                    .iter()
                    .all(|s| *s == 8192 || s.is_power_of_two() && *s < 8192)
            );
        }
        assert_eq!(statement_sizes(13, 4).collect::<Vec<_>>(), [4, 4, 4, 1]);
        assert_eq!(statement_sizes(7, 10).collect::<Vec<_>>(), [4, 2, 1]);
    }
}
