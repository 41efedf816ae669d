//! The databases a result table can live in: SQLite (bundled, nothing to install) and PostgreSQL.
//!
//! Both are driven with the same plain SQL (quoted identifiers, `$1` placeholders, `INSERT ...
//! ON CONFLICT`), so the table writes one dialect; only the column types and the
//! connection differ.

use std::collections::HashMap;

use crate::engine::output::table_row::{SqlType, SqlValue};

/// A connection to the database of `--sink`.
pub trait Database: Send {
    /// The SQL type of a column of `ty`.
    fn type_name(&self, ty: SqlType) -> &'static str;
    /// Runs statements without parameters (`BEGIN`, `COMMIT`, DDL).
    fn batch(&mut self, sql: &str) -> Result<(), String>;
    /// Runs one statement with parameters; returns the rows it changed.
    fn execute(&mut self, sql: &str, params: &[SqlValue]) -> Result<u64, String>;
    /// The first row of a query whose columns are all text (cast them in the SQL), NULL as
    /// `None`.
    fn query_row(
        &mut self,
        sql: &str,
        params: &[SqlValue],
    ) -> Result<Option<Vec<Option<String>>>, String>;
}

/// Opens the database that `--sink` names: `sqlite:PATH` or `postgres://...` (also
/// `postgresql://...`, or libpq's `host=/run/postgresql dbname=x` after `postgres:`).
pub fn open(sink: &str) -> Result<Box<dyn Database>, String> {
    if let Some(path) = sink.strip_prefix("sqlite:") {
        return Sqlite::open(path).map(|db| Box::new(db) as Box<dyn Database>);
    }
    if sink.starts_with("postgres://") || sink.starts_with("postgresql://") {
        return Postgres::open(sink).map(|db| Box::new(db) as Box<dyn Database>);
    }
    if let Some(params) = sink.strip_prefix("postgres:") {
        return Postgres::open(params).map(|db| Box::new(db) as Box<dyn Database>);
    }
    Err(format!(
        "--sink '{sink}' is not sqlite:PATH or postgres://USER@HOST/DB (or postgres:host=/socket/dir dbname=DB)"
    ))
}

struct Sqlite {
    conn: rusqlite::Connection,
}

impl Sqlite {
    fn open(path: &str) -> Result<Self, String> {
        let conn = rusqlite::Connection::open(path)
            .map_err(|e| format!("cannot open SQLite database '{path}': {e}"))?;
        // WAL: readers (a dashboard) never block the job, and a commit costs no fsync of the
        // main file; a commit survives the process being killed. `synchronous = NORMAL` may lose
        // the last commits on a power cut, never half of one: the progress row is in the same
        // transaction, so `--resume` redoes exactly what was lost.
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000;",
        )
        .map_err(|e| format!("cannot use SQLite database '{path}': {e}"))?;
        Ok(Sqlite { conn })
    }
}

impl rusqlite::ToSql for SqlValue {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, Value, ValueRef};
        Ok(match self {
            SqlValue::Null => ToSqlOutput::Owned(Value::Null),
            SqlValue::Integer(i) => ToSqlOutput::Owned(Value::Integer(*i)),
            SqlValue::Real(f) => ToSqlOutput::Owned(Value::Real(*f)),
            SqlValue::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            SqlValue::Boolean(b) => ToSqlOutput::Owned(Value::Integer(*b as i64)),
        })
    }
}

impl Database for Sqlite {
    fn type_name(&self, ty: SqlType) -> &'static str {
        match ty {
            SqlType::Integer => "INTEGER",
            SqlType::Real => "REAL",
            SqlType::Text => "TEXT",
            SqlType::Boolean => "BOOLEAN",
        }
    }

    fn batch(&mut self, sql: &str) -> Result<(), String> {
        self.conn.execute_batch(sql).map_err(|e| e.to_string())
    }

    fn execute(&mut self, sql: &str, params: &[SqlValue]) -> Result<u64, String> {
        let mut statement = self.conn.prepare_cached(sql).map_err(|e| e.to_string())?;
        statement
            .execute(rusqlite::params_from_iter(params))
            .map(|n| n as u64)
            .map_err(|e| e.to_string())
    }

    fn query_row(
        &mut self,
        sql: &str,
        params: &[SqlValue],
    ) -> Result<Option<Vec<Option<String>>>, String> {
        let mut statement = self.conn.prepare_cached(sql).map_err(|e| e.to_string())?;
        let columns = statement.column_count();
        let mut rows = statement
            .query(rusqlite::params_from_iter(params))
            .map_err(|e| e.to_string())?;
        let Some(row) = rows.next().map_err(|e| e.to_string())? else {
            return Ok(None);
        };
        (0..columns)
            .map(|i| row.get::<_, Option<String>>(i).map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, String>>()
            .map(Some)
    }
}

struct Postgres {
    client: postgres::Client,
    statements: HashMap<String, postgres::Statement>,
}

impl Postgres {
    fn open(params: &str) -> Result<Self, String> {
        let mut client = postgres::Client::connect(params, postgres::NoTls)
            .map_err(|e| format!("cannot connect to PostgreSQL ({params}): {e}"))?;
        // A commit need not wait for its WAL flush: a crash may lose the last commits, never half
        // of one, and their progress rows go with them, so `--resume` redoes exactly those.
        client
            .batch_execute("SET synchronous_commit = off; SET client_min_messages = warning;")
            .map_err(|e| format!("cannot use PostgreSQL ({params}): {e}"))?;
        Ok(Postgres {
            client,
            statements: HashMap::new(),
        })
    }

    fn statement(&mut self, sql: &str) -> Result<postgres::Statement, String> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql).map_err(|e| e.to_string())?;
        self.statements.insert(sql.to_owned(), s.clone());
        Ok(s)
    }
}

impl postgres::types::ToSql for SqlValue {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use postgres::types::{IsNull, Type};
        match self {
            SqlValue::Null => Ok(IsNull::Yes),
            SqlValue::Integer(i) => match *ty {
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                _ => i.to_sql(ty, out),
            },
            SqlValue::Real(f) => f.to_sql(ty, out),
            SqlValue::Text(s) => s.to_sql(ty, out),
            SqlValue::Boolean(b) => b.to_sql(ty, out),
        }
    }

    fn accepts(_: &postgres::types::Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

impl Database for Postgres {
    fn type_name(&self, ty: SqlType) -> &'static str {
        match ty {
            SqlType::Integer => "BIGINT",
            SqlType::Real => "DOUBLE PRECISION",
            SqlType::Text => "TEXT",
            SqlType::Boolean => "BOOLEAN",
        }
    }

    fn batch(&mut self, sql: &str) -> Result<(), String> {
        // A schema change makes cached statements stale.
        if sql.contains("CREATE") || sql.contains("DROP") {
            self.statements.clear();
        }
        self.client.batch_execute(sql).map_err(|e| e.to_string())
    }

    fn execute(&mut self, sql: &str, params: &[SqlValue]) -> Result<u64, String> {
        let statement = self.statement(sql)?;
        self.client
            .execute(&statement, &as_params(params))
            .map_err(|e| e.to_string())
    }

    fn query_row(
        &mut self,
        sql: &str,
        params: &[SqlValue],
    ) -> Result<Option<Vec<Option<String>>>, String> {
        let statement = self.statement(sql)?;
        let rows = self
            .client
            .query(&statement, &as_params(params))
            .map_err(|e| e.to_string())?;
        Ok(rows.first().map(|row| {
            (0..row.len())
                .map(|i| row.get::<_, Option<String>>(i))
                .collect()
        }))
    }
}

/// The values as the `postgres` client binds them.
fn as_params(values: &[SqlValue]) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
    values
        .iter()
        .map(|p| p as &(dyn postgres::types::ToSql + Sync))
        .collect()
}
