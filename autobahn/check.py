#!/usr/bin/env python3
"""Gate an Autobahn|Testsuite report on strict results (used by .ci/autobahn.sh).

    check.py --mode server|client [--autobahn-home DIR] [--expected FILE] [--no-counts] REPORT_DIR

REPORT_DIR holds the index.json (and expected_cases.json) the testsuite harness wrote. Each
case gets the verdict the testsuite's summarize.py gives it (behavior combined with
behaviorClose, so a peer that ignores a protocol error does not pass). The check fails
unless:
  * every case is OK, or INFORMATIONAL when expected.json lists it as such;
  * no case is MISSING (announced by wstest but not reported);
  * every section that ran has exactly the number of cases expected.json gives it (unless
    --no-counts).
Prints a per-section table, the non-OK cases, and ends with
    autobahn: N ok, M non-strict, K failed, U unimplemented, I informational (MODE role)
Exit status 0 = pass, 1 = fail, 2 = no report.
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
COLUMNS = ["OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED", "MISSING"]


def case_key(case_id):
    return tuple(int(x) if x.isdigit() else x for x in case_id.split("."))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", required=True, choices=["server", "client"])
    ap.add_argument("--autobahn-home", default=os.path.join(HERE, "..", "..", "shared", "autobahn"))
    ap.add_argument("--expected", default=os.path.join(HERE, "expected.json"))
    ap.add_argument("--no-counts", action="store_true",
                    help="skip the per-section case counts (for runs of a subset of cases)")
    ap.add_argument("report")
    args = ap.parse_args()

    # One definition of the combined verdict: the testsuite port's own.
    sys.path.insert(0, os.path.abspath(args.autobahn_home))
    from summarize import effective  # noqa: E402

    with open(args.expected, encoding="utf-8") as f:
        expected = json.load(f)
    index_path = os.path.join(args.report, "index.json")
    if not os.path.exists(index_path):
        print("autobahn: no report at %s (%s role)" % (index_path, args.mode))
        return 2
    with open(index_path, encoding="utf-8") as f:
        index = json.load(f)
    agents = list(index)
    if len(agents) != 1:
        print("autobahn: expected one agent in %s, found %s" % (index_path, agents))
        return 1
    results = index[agents[0]]
    announced = set()
    ep = os.path.join(args.report, "expected_cases.json")
    if os.path.exists(ep):
        with open(ep, encoding="utf-8") as f:
            announced = set(json.load(f).get("cases") or [])

    problems = []
    rows = {}
    totals = dict((c, 0) for c in COLUMNS)
    informational = set(expected.get("informational", []))
    for cid in sorted(set(results) | announced, key=case_key):
        r = results.get(cid)
        v = "MISSING" if r is None else effective(r)
        sec = cid.split(".")[0]
        rows.setdefault(sec, dict((c, 0) for c in COLUMNS))[v] += 1
        totals[v] += 1
        if v == "OK" or (v == "INFORMATIONAL" and cid in informational):
            continue
        if r is None:
            problems.append("%-9s MISSING" % cid)
        else:
            problems.append("%-9s %-13s behavior=%s close=%s remoteCloseCode=%s (%s)" % (
                cid, v, r.get("behavior"), r.get("behaviorClose"), r.get("remoteCloseCode"),
                os.path.join(args.report, r.get("reportfile") or "?")))

    want = expected.get("sections", {})
    for sec in [] if args.no_counts else sorted(rows, key=int):
        ran = sum(rows[sec].values())
        if sec not in want:
            problems.append("section %s: not in %s (add its case count)" % (sec, args.expected))
        elif ran != want[sec]:
            problems.append("section %s: %d cases ran, %d expected" % (sec, ran, want[sec]))
    not_run = sorted(set(want) - set(rows), key=int)

    print("== Autobahn|Testsuite, %s role (%s): %d cases" % (
        args.mode, "fuzzingclient vs echo_server" if args.mode == "server"
        else "fuzzingserver vs autobahn_client", sum(totals.values())))
    print("sec " + "".join("%15s" % c for c in COLUMNS))
    for sec in sorted(rows, key=int):
        print("%-4s" % sec + "".join("%15d" % rows[sec][c] for c in COLUMNS))
    print("all " + "".join("%15d" % totals[c] for c in COLUMNS))
    if not_run:
        print("-- sections not run: %s" % ", ".join(not_run))
    if problems:
        print("-- problems (%d):" % len(problems))
        for p in problems:
            print("   " + p)
    print("autobahn: %d ok, %d non-strict, %d failed, %d unimplemented, %d informational (%s role)" % (
        totals["OK"], totals["NON-STRICT"], totals["FAILED"] + totals["MISSING"],
        totals["UNIMPLEMENTED"], totals["INFORMATIONAL"], args.mode))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
