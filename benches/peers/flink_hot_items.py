#!/usr/bin/env python3
"""hot-items in Flink SQL (PyFlink Table API): HOP window TVF + ROW_NUMBER window top-N.

A filesystem CSV source table declares the event time `rt` = TO_TIMESTAMP_LTZ(ts, 0) with the
watermark `rt` (out-of-orderness 0, as in the tutorial). The query is the textbook Flink one:

    HOP(TABLE pv, DESCRIPTOR(rt), slide, size) -> COUNT(*) GROUP BY window, item
      -> ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY cnt DESC, item_id)
      -> rn <= N

In streaming mode (default) the planner turns this into a window aggregate and a window rank that
fire on the watermark; at the end of the bounded file the watermark jumps to +inf and every
window fires. In batch mode (--mode batch) it is a sort/hash aggregate and a rank over the file.
The result is collected into Python (it is small) and written as the common peer CSV.

All computation runs in the JVM (a local MiniCluster inside the py4j gateway process); Python
only submits SQL and collects rows. Timings, printed to stderr:
  * startup: python -> JVM gateway up and the TableEnvironment created (not counted below);
  * the `flink:` line: from submitting the query (the DDL before it is not timed) to the last
    result row collected (planning, job submission, reading the CSV, the job, the result transfer);
  * the java process's peak RSS (VmHWM from /proc, read after the job, before it exits).

    pip install apache-flink     # brings Flink's jars; needs Java 11/17 as `java` or JAVA_HOME
    python3 benches/peers/flink_hot_items.py data/tutorial/UserBehavior.csv --out flink.csv
"""

import os
import resource
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers_common import (base_parser, count_lines, cpu_secs, interval, java_children,  # noqa: E402
                          rate, result_line, to_ms, vm_hwm_kib,
                          write_rows)


def main():
    p = base_parser(__doc__.splitlines()[0])
    p.add_argument("--parallelism", type=int, default=2, help="parallelism.default (default 2)")
    p.add_argument("--mode", choices=("streaming", "batch"), default="streaming",
                   help="Flink runtime mode (default streaming)")
    p.add_argument("--explain", action="store_true", help="print the optimized plan to stderr")
    p.add_argument("--repeat", type=int, default=1,
                   help="run the query this many times in the same JVM; the `flink:` line reports "
                        "the first run, the others show the cost once the MiniCluster is warm")
    args = p.parse_args()

    if args.window % args.slide:
        p.error(f"Flink's HOP window aggregate needs the window ({args.window} ms) to be a multiple "
                f"of the slide ({args.slide} ms)")
    events = count_lines(args.input)  # untimed
    path = os.path.abspath(args.input)

    t_start = time.perf_counter()
    from pyflink.table import EnvironmentSettings, TableEnvironment

    settings = (EnvironmentSettings.in_streaming_mode() if args.mode == "streaming"
                else EnvironmentSettings.in_batch_mode())
    t_env = TableEnvironment.create(settings)
    conf = t_env.get_config()
    conf.set("table.local-time-zone", "UTC")  # window alignment and the returned timestamps
    conf.set("parallelism.default", str(args.parallelism))
    conf.set("pipeline.name", "hot-items")
    startup = time.perf_counter() - t_start

    path_lit = path.replace("'", "''")
    t_env.execute_sql(f"""
        CREATE TEMPORARY TABLE user_behavior (
            user_id BIGINT,
            item_id BIGINT,
            category_id BIGINT,
            behavior STRING,
            ts BIGINT,
            rt AS TO_TIMESTAMP_LTZ(ts, 0),
            WATERMARK FOR rt AS rt
        ) WITH (
            'connector' = 'filesystem',
            'path' = 'file://{path_lit}',
            'format' = 'csv',
            'csv.ignore-parse-errors' = 'false'
        )""")
    t_env.execute_sql("""
        CREATE TEMPORARY VIEW pv AS
        SELECT item_id, rt FROM user_behavior WHERE behavior = 'pv'""")
    query = f"""
        SELECT window_start, window_end, rn, item_id, cnt FROM (
            SELECT *, ROW_NUMBER() OVER (
                       PARTITION BY window_start, window_end ORDER BY cnt DESC, item_id ASC) AS rn
            FROM (
                SELECT window_start, window_end, item_id, COUNT(*) AS cnt
                FROM TABLE(HOP(TABLE pv, DESCRIPTOR(rt), {interval(args.slide)}, {interval(args.window)}))
                GROUP BY window_start, window_end, item_id
            )
        ) WHERE rn <= {args.top}"""
    if args.explain:
        print(t_env.explain_sql(query), file=sys.stderr)

    runs = []
    for i in range(args.repeat):
        rows = []
        t0 = time.perf_counter()
        first = None
        with t_env.execute_sql(query).collect() as results:
            for r in results:
                if first is None:
                    first = time.perf_counter() - t0
                rows.append((to_ms(r[0]), to_ms(r[1]), int(r[2]), int(r[3]), int(r[4])))
        secs = time.perf_counter() - t0
        runs.append(secs)
        if args.repeat > 1:
            print(f"flink: run {i + 1}: {len(rows)} rows in {secs:.3f} s = {rate(events, secs)} "
                  f"events/s (first row after {first or 0:.3f} s)", file=sys.stderr)
    secs = runs[0]

    javas = java_children()
    hwm = [vm_hwm_kib(pid) for pid in javas]
    cpu = [cpu_secs(pid) for pid in javas]
    rows.sort(key=lambda r: (r[0], r[2]))
    write_rows(rows, args.out)
    print(f"flink: {len(rows)} rows in {secs:.3f} s = {rate(events, secs)} events/s "
          f"({events} input rows, {args.mode} mode, parallelism {args.parallelism}; "
          f"startup {startup:.2f} s not counted)", file=sys.stderr)
    if hwm and all(h is not None for h in hwm):
        print(f"flink: java peak RSS (VmHWM) {sum(hwm) / 1024:.0f} MiB "
              f"(pid{'s' if len(javas) > 1 else ''} {' '.join(map(str, javas))}); "
              f"java CPU time {sum(c or 0 for c in cpu):.1f} s over the whole process life", file=sys.stderr)
    else:
        print("flink: java peak RSS unknown (no java child found in /proc)", file=sys.stderr)
    py = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"flink: python max RSS {py / 1024:.0f} MiB; reaped children max RSS {kids / 1024:.0f} MiB "
          f"(the gateway JVM is reaped only at exit, so this is usually 0 here)", file=sys.stderr)
    result_line("flink", "hot-items", secs)


if __name__ == "__main__":
    main()
