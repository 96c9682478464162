#!/usr/bin/env python3
"""Reads back the statements the server ran (PostgreSQL's log with log_min_duration_statement = 0)
and explains the ones that read `referrals`.

    pg_statements.py DB_URL DB_NAME SUMMARY_OUT LOGSEGMENT=LABEL [LOGSEGMENT=LABEL ...]

Each LOGSEGMENT is the part of the PostgreSQL log written during one API call. For every SELECT
of that call that mentions "referrals", prints the statement with its parameters, then

  * EXPLAIN (ANALYZE, BUFFERS) of the statement with its parameters substituted as literals
    (what PostgreSQL plans for these values: a "custom plan"), and
  * the same through PREPARE with plan_cache_mode = force_generic_plan (the server's statements
    are named prepared statements, kept per connection; after five executions PostgreSQL may
    switch a connection to the generic plan, which does not know the values),

each with a verdict: how `referrals` is read (which index, or Seq Scan) and how many of its rows
are read for the page. Writes one tab-separated line per explained statement to SUMMARY_OUT.
Exits 2 when a call left no statement on `referrals` in the log (the capture failed).
"""
import re
import subprocess
import sys

ENTRY = re.compile(r"^(?P<prefix>.*?)\b(?P<level>LOG|DETAIL|ERROR|STATEMENT|HINT|CONTEXT|WARNING):  (?P<msg>.*)$")
EXECUTE = re.compile(r"^duration: [\d.]+ ms  (?:execute [^:]*|statement): (?P<sql>.*)$", re.S)
PARAM = re.compile(r"\$(\d+) = (NULL|'(?:[^']|'')*')")
PLACEHOLDER = re.compile(r"\$(\d+)\b")
PID = re.compile(r"\[(\d+)\]")


def entries(path, db):
    """(pid, level, message) of the log segment, continuation lines joined, this database only."""
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = ENTRY.match(line)
            if m and (PID.search(m.group("prefix")) or "@" in m.group("prefix")):
                prefix = m.group("prefix")
                if "@" in prefix and f"@{db} " not in prefix + " ":
                    out.append(None)  # another database: ends the previous entry
                    continue
                pid = (PID.search(prefix) or [None, None])[1]
                out.append([pid, m.group("level"), m.group("msg")])
            elif out and out[-1] is not None:
                out[-1][2] += "\n" + line
    return [e for e in out if e is not None]


def executed(path, db):
    """(sql, params) of every statement executed in the segment, in order."""
    es = entries(path, db)
    result = []
    for i, (pid, level, msg) in enumerate(es):
        if level != "LOG":
            continue
        m = EXECUTE.match(msg)
        if not m:
            continue
        params = {}
        for pid2, level2, msg2 in es[i + 1:i + 4]:
            if pid2 == pid and level2 == "DETAIL" and msg2.startswith("parameters:"):
                params = {int(k): v for k, v in PARAM.findall(msg2)}
                break
            if pid2 == pid and level2 == "LOG":
                break
        result.append((m.group("sql").strip(), params))
    return result


def substitute(sql, params):
    return PLACEHOLDER.sub(lambda m: params.get(int(m.group(1)), m.group(0)), sql)


def psql(url, *commands):
    args = ["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", url]
    for c in commands:
        args += ["-c", c]
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode != 0:
        return None, p.stderr.strip()
    return p.stdout.rstrip("\n").splitlines(), None


def plan_nodes(lines):
    """[(indent, node line, [property lines])] of an EXPLAIN text output."""
    nodes = []
    for line in lines:
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if stripped.startswith("->"):
            nodes.append((indent, stripped[2:].strip(), []))
        elif not nodes:
            nodes.append((indent, stripped, []))
        elif stripped.startswith(("Planning", "Execution")):
            continue
        else:
            nodes[-1][2].append(stripped)
    return nodes


def verdict(lines, limit):
    nodes = plan_nodes(lines)
    access, read, scanned = [], 0, []
    others = []
    for _, node, props in nodes:
        actual = re.search(r"actual time=[\d.]+\.\.[\d.]+ rows=(\d+) loops=(\d+)", node)
        # EXPLAIN ANALYZE shows rows and rows removed per loop (per process for parallel nodes)
        loops = int(actual.group(2)) if actual else 0
        rows = int(actual.group(1)) * loops if actual else 0
        removed = loops * sum(int(x) for p in props for x in re.findall(r"Rows Removed by (?:Filter|Index Recheck): (\d+)", p))
        m = re.match(r"(Seq Scan|Parallel Seq Scan) on referrals\b", node)
        if m:
            access.append("SEQ SCAN")
            read += rows + removed
            continue
        m = re.match(r"((?:Parallel )?Index (?:Only )?Scan(?: Backward)?) using (\S+) on referrals\b", node)
        if m:
            access.append(f"{m.group(1)} using {m.group(2)}")
            read += rows + removed
            continue
        m = re.match(r"(?:Parallel )?Bitmap Heap Scan on referrals\b", node)
        if m:
            access.append("Bitmap Heap Scan")
            read += rows + removed
            continue
        m = re.match(r"Bitmap Index Scan on (\S+)", node)
        if m and m.group(1).startswith("referrals"):
            access.append(f"(bitmap of {m.group(1)})")
            continue
        m = re.match(r"(?:Parallel )?Seq Scan on (\w+)", node)
        if m:
            scanned.append((m.group(1), rows + removed))
    for table, n in scanned:
        if table in ("inquiries", "events", "messages") or n > 1000:
            others.append(f"SEQ SCAN on {table} ({n} rows)")
    if not access:
        head = "no scan of referrals in the plan"
    elif any(a == "SEQ SCAN" for a in access):
        head = "SEQ SCAN on referrals"
    else:
        head = "index: " + ", ".join(access)
    if any(re.match(r"Gather", node) for _, node, _ in nodes):
        head += " (parallel workers)"
    pathological = bool(others) or "SEQ SCAN" in head
    if limit and read > max(1000, 10 * limit):
        pathological = True
        others.append(f"reads {read} referrals rows for a page of {limit}")
    exec_ms = next((l.split(":", 1)[1].strip() for l in lines if l.startswith("Execution Time")), "?")
    return head, read, exec_ms, others, pathological


def main():
    url, db, summary_out = sys.argv[1], sys.argv[2], sys.argv[3]
    failed = []
    summary = []
    for arg in sys.argv[4:]:
        path, label = arg.split("=", 1)
        stmts = [(s, p) for s, p in executed(path, db)
                 if re.match(r"\s*SELECT\b", s, re.I) and re.search(r'\b"?referrals"?\b', s)]
        print(f"\n### {label}")
        if not stmts:
            print("    no SELECT on referrals found in the PostgreSQL log for this call")
            failed.append(label)
            continue
        for n, (sql, params) in enumerate(stmts, 1):
            literal = substitute(sql, params)
            limit = None
            lm = re.search(r"\bLIMIT (\$\d+|\d+)", sql)
            if lm:
                v = params.get(int(lm.group(1)[1:])) if lm.group(1).startswith("$") else lm.group(1)
                limit = int(v.strip("'")) if v and v != "NULL" else None
            print(f"\n-- statement {n} of the call, as logged:\n{sql}")
            if params:
                print("-- parameters: " + ", ".join(f"${k} = {v}" for k, v in sorted(params.items())))
            custom, err = psql(url, "EXPLAIN (ANALYZE, BUFFERS) " + literal)
            if custom is None:
                print(f"-- EXPLAIN failed: {err}")
                failed.append(label)
                continue
            print("-- EXPLAIN (ANALYZE, BUFFERS), parameters substituted (custom plan):")
            print("\n".join("   " + l for l in custom))
            head, read, ms, others, bad = verdict(custom, limit)
            print(f"-- VERDICT (custom plan): {head}; {read} referrals rows read; execution {ms}"
                  + ("" if not others else "; " + "; ".join(others)))
            gen_head = "n/a"
            notes = [f"custom plan: {head}, {read} rows read"] + others if bad else []
            if params:
                args = ", ".join(params[k] for k in sorted(params))
                generic, err = psql(url, "SET plan_cache_mode = force_generic_plan",
                                    f"PREPARE bench_q AS {sql}",
                                    f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_q({args})")
                if generic is None:
                    print(f"-- generic plan: EXPLAIN failed: {err}")
                else:
                    generic = [l for l in generic if l not in ("SET", "PREPARE")]
                    g_head, g_read, g_ms, g_others, g_bad = verdict(generic, limit)
                    gen_head = g_head
                    if g_head == head and g_read == read:
                        print(f"-- generic plan (force_generic_plan): same access, {g_head}; execution {g_ms}")
                    else:
                        print("-- EXPLAIN (ANALYZE, BUFFERS) EXECUTE with plan_cache_mode = force_generic_plan:")
                        print("\n".join("   " + l for l in generic))
                        print(f"-- VERDICT (generic plan): {g_head}; {g_read} referrals rows read; execution {g_ms}"
                              + ("" if not g_others else "; " + "; ".join(g_others)))
                    if g_bad:
                        bad = True
                        notes += [f"generic plan: {g_head}, {g_read} rows read"] + g_others
            summary.append("\t".join([label, str(n), head, str(read), ms, gen_head,
                                      "; ".join(notes) if bad else "ok"]))
    with open(summary_out, "w") as f:
        f.write("\n".join(summary) + "\n")
    if failed:
        print(f"\ncapture failed for: {', '.join(failed)}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
