"""Shared bits of the peer scripts: the command line, durations, the output CSV, the input
schemas, peak RSS, and the two runners (`duckdb_main`, `flink_main`) that every job's script calls
with its SQL.

The hot-items peers write `window_start,window_end,rank,item_id,count`, with times in epoch
milliseconds (window end exclusive), sorted by window_start then rank. The other jobs' peers write
a subset of uba's own csv columns, under uba's names, times in epoch ms, so that compare.py can
check them against uba's csv column by column.
"""

import argparse
import csv
import datetime as dt
import os
import re
import resource
import sys
import tempfile
import time

HEADER = ["window_start", "window_end", "rank", "item_id", "count"]

_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}


def parse_duration_ms(text: str) -> int:
    """`1h`, `5m`, `30s`, `250ms`, `1h30m` -> milliseconds (a bare number is seconds)."""
    text = text.strip().lower()
    if re.fullmatch(r"\d+", text):
        return int(text) * 1000
    total, pos = 0, 0
    for m in re.finditer(r"(\d+)\s*(ms|min|s|m|h|d)", text):
        if m.start() != pos:
            break
        total += int(m.group(1)) * _UNITS_MS[m.group(2)]
        pos = m.end()
    if pos != len(text) or total <= 0:
        raise argparse.ArgumentTypeError(f"bad duration {text!r} (use e.g. 1h, 5m, 30s, 250ms)")
    return total


def base_parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("input", help="UserBehavior CSV without header: userId,itemId,categoryId,behavior,ts")
    p.add_argument("--out", help="output CSV (default: stdout)")
    p.add_argument("--window", type=parse_duration_ms, default=parse_duration_ms("1h"),
                   help="window size (default 1h)")
    p.add_argument("--slide", type=parse_duration_ms, default=parse_duration_ms("5m"),
                   help="window slide (default 5m)")
    p.add_argument("--top", type=int, default=5, help="top N per window (default 5)")
    return p


def write_rows(rows, out_path):
    """rows: iterable of (window_start_ms, window_end_ms, rank, item_id, count)."""
    write_csv(HEADER, rows, out_path)


def write_csv(header, rows, out_path):
    """rows: iterables of cells; None is written as an empty cell (as uba writes a missing one)."""
    f = open(out_path, "w", newline="") if out_path else sys.stdout
    try:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    finally:
        if out_path:
            f.close()
        else:
            f.flush()


def count_lines(path: str) -> int:
    """Input rows = lines (a last line without a trailing newline counts too)."""
    n, last = 0, b"\n"
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            n += chunk.count(b"\n")
            last = chunk[-1:]
    return n + (last != b"\n")


def rate(events: int, seconds: float) -> str:
    return f"{events / seconds:,.0f}" if seconds > 0 else "inf"


def sql_literal(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


# --- peak RSS -------------------------------------------------------------------------------

def java_children():
    """pids of java processes started by this process (PyFlink's py4j gateway)."""
    me, pids = os.getpid(), []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        if ppid == me and comm == "java":
            pids.append(int(d))
    return pids


def vm_hwm_kib(pid):
    """A live process's peak RSS (VmHWM) in KiB, or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def cpu_secs(pid):
    """user + system CPU seconds of a live process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def tree_peak_rss_kib():
    """Peak RSS of this process tree: python's own (DuckDB runs inside it) plus its live java
    children's VmHWM (PyFlink's JVM; it is reaped only when python exits, so wait4 on python
    does not see it)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return own + sum(vm_hwm_kib(pid) or 0 for pid in java_children())


# --- the jobs other than hot-items ----------------------------------------------------------

# Input schemas, as docs/jobs.md gives them ("Inputs"); ts in epoch seconds.
USER_BEHAVIOR = [("user_id", "BIGINT"), ("item_id", "BIGINT"), ("category_id", "BIGINT"),
                 ("behavior", "VARCHAR"), ("ts", "BIGINT")]
LOGIN = [("user_id", "BIGINT"), ("ip", "VARCHAR"), ("status", "VARCHAR"), ("ts", "BIGINT")]
ORDER = [("order_id", "BIGINT"), ("kind", "VARCHAR"), ("tx_id", "VARCHAR"), ("ts", "BIGINT")]
RECEIPT = [("tx_id", "VARCHAR"), ("pay_channel", "VARCHAR"), ("ts", "BIGINT")]


def duration_flag(p, name, default, what):
    p.add_argument(name, type=parse_duration_ms, default=parse_duration_ms(default),
                   help=f"{what} (default {default}, as uba's)")


def _parser(doc, inputs, flags):
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    for name, what in inputs:
        p.add_argument(name, help=f"{what} CSV without header (as uba reads it)")
    p.add_argument("--out", help="output CSV (default: stdout)")
    if flags:
        flags(p)
    return p


def report(peer, job, rows, secs, events, note):
    """The summary on stderr: one line for people, and one `peer-result` line that
    benches/jobs.rs reads (the query's own seconds and the process tree's peak RSS)."""
    kib = tree_peak_rss_kib()
    print(f"{peer}: {job}: {rows} rows in {secs:.3f} s = {rate(events, secs)} events/s "
          f"({events} input rows; {note}); peak RSS {kib / 1024:.0f} MiB "
          f"(python{' + java' if java_children() else ''})", file=sys.stderr)
    result_line(peer, job, secs)


def result_line(peer, job, secs):
    """The line benches/jobs.rs reads: the query's own seconds and the tree's peak RSS."""
    print(f"peer-result peer={peer} job={job} seconds={secs:.6f} rss_kib={tree_peak_rss_kib()}",
          file=sys.stderr)


def csv_scan(path, columns):
    """DuckDB's scan of a headerless input file with explicit column types."""
    cols = ", ".join(f"'{n}': '{t}'" for n, t in columns)
    return (f"read_csv({sql_literal(os.path.abspath(path))}, header = false, delim = ',', "
            f"quote = '', auto_detect = false, columns = {{{cols}}})")


def duckdb_main(job, doc, inputs, header, query, flags=None, setup=lambda args: []):
    """A DuckDB peer: parses the command line (`inputs` = [(name, what)], plus `flags(parser)`),
    runs the statements `setup(args)` then `query(args)` in an in-memory database and writes the
    result under `header`. Timed: the statements, CSV reading and the fetch included; not the
    line count (events = the input files' lines) nor the writing of the output."""
    import duckdb

    p = _parser(doc, inputs, flags)
    p.add_argument("--threads", type=int, default=2, help="DuckDB threads (default 2)")
    args = p.parse_args()
    events = sum(count_lines(getattr(args, name)) for name, _ in inputs)  # untimed
    con = duckdb.connect(":memory:")
    con.execute("SET enable_progress_bar = false")  # it would print to stdout
    con.execute(f"SET threads = {args.threads}")
    t0 = time.perf_counter()
    for stmt in setup(args):
        con.execute(stmt)
    rows = con.execute(query(args)).fetchall()
    secs = time.perf_counter() - t0
    write_csv(header, rows, args.out)
    report("duckdb", job, len(rows), secs, events,
           f"{args.threads} threads, duckdb {duckdb.__version__}")


def interval(ms: int) -> str:
    """A Flink SQL interval literal in the largest unit that holds it exactly. Leading precision
    3: the default, 2, refuses '300' SECOND, and watermarks and interval joins refuse more than 3
    ("DAY_INTERVAL_TYPES precision is not supported")."""
    for unit, size in (("DAY", 86_400_000), ("HOUR", 3_600_000), ("MINUTE", 60_000),
                       ("SECOND", 1000)):
        if ms % size == 0 and ms // size < 1000:
            return f"INTERVAL '{ms // size}' {unit}(3)"
    if ms < 1_000_000:
        return f"INTERVAL '{ms // 1000}.{ms % 1000:03d}' SECOND(3, 3)"
    raise ValueError(f"no Flink interval literal for {ms} ms here")


def to_ms(ts) -> int:
    """Flink's TIMESTAMP values come back as naive datetimes in the session zone (UTC), or as
    their text in a csv file."""
    if isinstance(ts, str) and not ts.isdigit():
        ts = dt.datetime.fromisoformat(ts)
    if isinstance(ts, dt.datetime):
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=dt.timezone.utc)
        return round(ts.timestamp() * 1000)
    return int(ts)


def flink_table(name, path, columns, out_of_orderness_ms=0):
    """Flink DDL of a headerless input file as a table with event time `rt` (from `ts`, epoch
    seconds) and uba's watermark for `--out-of-orderness`. Flink takes a row at or before its
    watermark as late, uba only a row strictly behind it (equal times stay on time: a create and
    its pay in the same second still pair), so the Flink watermark is 1 ms further behind."""
    cols = ",\n".join(f"    {n} {'STRING' if t == 'VARCHAR' else t}" for n, t in columns)
    wm = f"rt - {interval(out_of_orderness_ms + 1)}"
    return f"""CREATE TEMPORARY TABLE {name} (
{cols},
    rt AS TO_TIMESTAMP_LTZ(ts, 0),
    WATERMARK FOR rt AS {wm}
) WITH (
    'connector' = 'filesystem',
    'path' = 'file://{os.path.abspath(path).replace("'", "''")}',
    'format' = 'csv',
    'csv.ignore-parse-errors' = 'false'
)"""


def flink_main(job, doc, inputs, header, tables, query, row, flags=None):
    """A Flink SQL peer (PyFlink Table API, streaming mode): `tables(args)` are the DDL statements
    (not timed), `query(args)` the query, whose columns are named as `header`. The job writes its
    result with Flink's filesystem sink (csv) into a scratch directory, as a Flink job would; the
    timed span is from submitting it to the job's end (planning, job start, the run, the sink's
    files committed), not the JVM's start (printed). Then, untimed, the part files are read back,
    each row turned into output cells by `row(cells)` (cells as text, None for an empty one),
    sorted, and written under `header`. (Collecting the rows into Python through py4j instead
    costs more than the job itself for the jobs with many result rows.)"""
    p = _parser(doc, inputs, flags)
    p.add_argument("--parallelism", type=int, default=2, help="parallelism.default (default 2)")
    p.add_argument("--explain", action="store_true", help="print the optimized plan to stderr")
    args = p.parse_args()
    events = sum(count_lines(getattr(args, name)) for name, _ in inputs)  # untimed

    t_start = time.perf_counter()
    from pyflink.table import EnvironmentSettings, TableEnvironment

    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    conf = t_env.get_config()
    conf.set("table.local-time-zone", "UTC")  # window alignment and the returned timestamps
    conf.set("parallelism.default", str(args.parallelism))
    conf.set("pipeline.name", job)
    startup = time.perf_counter() - t_start
    for ddl in tables(args):
        t_env.execute_sql(ddl)
    sql = query(args)
    if args.explain:
        print(t_env.explain_sql(sql), file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix=f"flink-{job}-") as scratch:
        t0 = time.perf_counter()
        t_env.execute_sql(f"""CREATE TABLE peer_result WITH (
            'connector' = 'filesystem', 'path' = 'file://{scratch}', 'format' = 'csv'
        ) AS {sql}""").wait()
        secs = time.perf_counter() - t0
        rows = []
        for d, _, files in os.walk(scratch):
            for name in files:
                if name.startswith("."):
                    sys.exit(f"flink: {job}: uncommitted file {name} in the sink's directory")
                with open(os.path.join(d, name), newline="") as f:
                    rows.extend(row([c if c != "" else None for c in rec]) for rec in csv.reader(f))
    rows.sort(key=lambda r: tuple((c is None, c) for c in r))
    write_csv(header, rows, args.out)
    report("flink", job, len(rows), secs, events,
           f"streaming mode, parallelism {args.parallelism}; JVM start {startup:.1f} s not counted")


def window_flag(p):
    duration_flag(p, "--window", "1h", "tumbling window size")


def duckdb_tumble(args, aggregate):
    """pv and uv in DuckDB: `aggregate` over the pv rows of each epoch-aligned tumbling window
    (floor division written with % so it is right for negative times too)."""
    w = args.window
    return f"""
SELECT t - ((t % {w}) + {w}) % {w} AS window_start, window_start + {w} AS window_end,
       {aggregate}
FROM (SELECT user_id, ts * 1000 AS t FROM {csv_scan(args.input, USER_BEHAVIOR)}
      WHERE behavior = 'pv')
GROUP BY window_start ORDER BY window_start"""


def flink_tumble(job, doc, aggregate):
    """pv and uv in Flink SQL: the TUMBLE window TVF, `aggregate` per window."""
    flink_main(
        job, doc, [("input", "UserBehavior")], ["window_start", "window_end", job],
        tables=lambda a: [flink_table("user_behavior", a.input, USER_BEHAVIOR)],
        query=lambda a: f"""
            SELECT window_start, window_end, {aggregate} AS {job}
            FROM TABLE(TUMBLE(TABLE user_behavior, DESCRIPTOR(rt), {interval(a.window)}))
            WHERE behavior = 'pv'
            GROUP BY window_start, window_end""",
        row=lambda r: (to_ms(r[0]), to_ms(r[1]), int(r[2])),
        flags=window_flag)
