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
    /// Whether a table of this name exists (in the schema the connection writes to).
    fn has_table(&mut self, name: &str) -> Result<bool, String>;
}

/// Opens the database that `--sink` names: `sqlite:PATH` or `postgres://...` (also
/// `postgresql://...`, or libpq's `host=/run/postgresql dbname=x` after `postgres:`).
pub fn open(sink: &str) -> Result<Box<dyn Database>, String> {
    if let Some(path) = sink.strip_prefix("sqlite:") {
        if path.is_empty() || path.contains(":memory:") || path.contains("mode=memory") {
            return Err(format!(
                "--sink '{sink}' is a database that vanishes when the run ends, and its rows with it: \
                 name a file, as in sqlite:results.db"
            ));
        }
        return Sqlite::open(path).map(|db| Box::new(db) as Box<dyn Database>);
    }
    if sink.starts_with("postgres://") || sink.starts_with("postgresql://") {
        return Postgres::open(sink).map(|db| Box::new(db) as Box<dyn Database>);
    }
    if let Some(params) = sink.strip_prefix("postgres:") {
        return Postgres::open(params).map(|db| Box::new(db) as Box<dyn Database>);
    }
    Err(format!(
        "--sink '{}' is not sqlite:PATH or postgres://USER@HOST/DB (or postgres:host=/socket/dir dbname=DB)",
        redacted(sink)
    ))
}

/// `sink` as it may be shown: a password in it (`postgres://user:secret@host`, or
/// `password=secret`) is replaced by `***`.
pub fn redacted(sink: &str) -> String {
    // URL form: the password sits between the user's `:` and the `@` of the authority.
    if let Some((scheme, rest)) = sink.split_once("://") {
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(authority_end);
        if let Some((userinfo, host)) = authority.rsplit_once('@')
            && let Some((user, _)) = userinfo.split_once(':')
        {
            return format!("{scheme}://{user}:***@{host}{path}");
        }
        return sink.to_owned();
    }
    // Key-value form: `password=secret` or `password='a secret'`.
    let mut out = String::with_capacity(sink.len());
    let mut rest = sink;
    while let Some(at) = rest.find("password") {
        let (before, from) = rest.split_at(at);
        out.push_str(before);
        let after = from["password".len()..].trim_start();
        let Some(value) = after.strip_prefix('=') else {
            out.push_str("password");
            rest = &from["password".len()..];
            continue;
        };
        let value = value.trim_start();
        let end = if let Some(quoted) = value.strip_prefix('\'') {
            quoted.find('\'').map_or(value.len(), |i| i + 2)
        } else {
            value.find(char::is_whitespace).unwrap_or(value.len())
        };
        out.push_str("password=***");
        rest = &value[end..];
    }
    out.push_str(rest);
    out
}

/// The password for `config` in the password file (`PGPASSFILE`, else `~/.pgpass`), as libpq
/// reads it: lines `host:port:database:user:password`, `*` matching anything, `\:` a colon; a
/// Unix-socket connection matches the host `localhost`. Like libpq, a file that others can read
/// is ignored.
fn password_file(config: &postgres::Config) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PGPASSFILE")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".pgpass")))?;
    let metadata = std::fs::metadata(&path).ok()?;
    if metadata.permissions().mode() & 0o077 != 0 {
        return None;
    }
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(name)) => name.clone(),
        _ => "localhost".to_owned(),
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let user = config.get_user().unwrap_or_default().to_owned();
    let dbname = config.get_dbname().unwrap_or(&user).to_owned();
    let wanted = [host, port, dbname, user];
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|line| {
            let fields = split_pgpass(line);
            let [h, p, d, u, password] = fields.as_slice() else {
                return None;
            };
            [h, p, d, u]
                .iter()
                .zip(&wanted)
                .all(|(field, want)| *field == "*" || field == &want)
                .then(|| password.clone())
        })
}

/// A password file's line split at its unescaped colons, `\:` and `\\` unescaped.
fn split_pgpass(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => fields.last_mut().unwrap().extend(chars.next()),
            ':' => fields.push(String::new()),
            c => fields.last_mut().unwrap().push(c),
        }
    }
    fields
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

    fn has_table(&mut self, name: &str) -> Result<bool, String> {
        self.query_row(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = $1",
            &[SqlValue::Text(name.to_owned())],
        )
        .map(|row| row.is_some())
    }
}

struct Postgres {
    client: postgres::Client,
    statements: HashMap<String, postgres::Statement>,
}

impl Postgres {
    fn open(params: &str) -> Result<Self, String> {
        let shown = redacted(params);
        let mut config: postgres::Config = params
            .parse()
            .map_err(|e| format!("--sink: cannot read PostgreSQL's parameters ({shown}): {e}"))?;
        // As libpq: a password not given is PGPASSWORD's, else the password file's.
        if config.get_password().is_none() {
            if let Ok(password) = std::env::var("PGPASSWORD") {
                config.password(password);
            } else if let Some(password) = password_file(&config) {
                config.password(password);
            }
        }
        let mut client = config
            .connect(postgres::NoTls)
            .map_err(|e| format!("cannot connect to PostgreSQL ({shown}): {e}"))?;
        // A commit need not wait for its WAL flush: a crash may lose the last commits, never half
        // of one, and their progress rows go with them, so `--resume` redoes exactly those.
        client
            .batch_execute("SET synchronous_commit = off; SET client_min_messages = warning;")
            .map_err(|e| format!("cannot use PostgreSQL ({shown}): {e}"))?;
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
        // A column of another type (a table of another schema) is an error, not a panic.
        rows.first()
            .map(|row| {
                (0..row.len())
                    .map(|i| {
                        row.try_get::<_, Option<String>>(i)
                            .map_err(|e| e.to_string())
                    })
                    .collect()
            })
            .transpose()
    }

    fn has_table(&mut self, name: &str) -> Result<bool, String> {
        self.query_row(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = $1",
            &[SqlValue::Text(name.to_owned())],
        )
        .map(|row| row.is_some())
    }
}

/// The values as the `postgres` client binds them.
fn as_params(values: &[SqlValue]) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
    values
        .iter()
        .map(|p| p as &(dyn postgres::types::ToSql + Sync))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{redacted, split_pgpass};

    #[test]
    fn passwords_are_redacted_in_both_forms() {
        assert_eq!(
            redacted("postgres://ann:s3cret@db:5432/shop?sslmode=disable"),
            "postgres://ann:***@db:5432/shop?sslmode=disable"
        );
        assert_eq!(redacted("postgres://ann@db/shop"), "postgres://ann@db/shop");
        assert_eq!(
            redacted("host=/tmp password=s3cret user=ann"),
            "host=/tmp password=*** user=ann"
        );
        assert_eq!(
            redacted("user=ann password = 'a b' dbname=x"),
            "user=ann password=*** dbname=x"
        );
        assert_eq!(redacted("sqlite:passwords.db"), "sqlite:passwords.db");
    }

    #[test]
    fn password_file_lines_split_at_unescaped_colons() {
        assert_eq!(
            split_pgpass(r"db:5432:shop:ann:pa\:ss\\word"),
            ["db", "5432", "shop", "ann", r"pa:ss\word"]
        );
    }
}
