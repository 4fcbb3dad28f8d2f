#!/usr/bin/env python3
"""Prints the benchmark table (Markdown) from criterion's results in perf/target/criterion,
with ratios and every target of issue 6 marked met or not.

    python3 perf/table.py [--stat best|median|mean] [--criterion DIR]

`best` (default) is the fastest of criterion's samples, per iteration: on a shared machine
other processes only ever slow a sample down, so the fastest one is the least disturbed.
"""

import argparse
import json
import os
import platform
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def load(root, stat):
    """{(group, function, value): (ns per iteration, bytes per iteration or None)}"""
    results = {}
    for dirpath, _, files in os.walk(root):
        if "benchmark.json" not in files or os.path.basename(dirpath) != "new":
            continue
        with open(os.path.join(dirpath, "benchmark.json")) as f:
            bench = json.load(f)
        if stat == "best":
            with open(os.path.join(dirpath, "sample.json")) as f:
                sample = json.load(f)
            ns = min(t / n for t, n in zip(sample["times"], sample["iters"]))
        else:
            with open(os.path.join(dirpath, "estimates.json")) as f:
                ns = json.load(f)[stat]["point_estimate"]
        nbytes = (bench.get("throughput") or {}).get("Bytes")
        key = (bench["group_id"], bench["function_id"], bench.get("value_str") or "")
        results[key] = (ns, nbytes)
    return results


def meta(root, group):
    path = os.path.join(root, group, "corpus.json")
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    return None


def gbs(ns, nbytes):
    return nbytes / ns if ns and nbytes else None  # bytes per ns = GB/s


def fmt_time(ns):
    if ns is None:
        return "—"
    if ns < 1e3:
        return f"{ns:.1f} ns"
    if ns < 1e6:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns / 1e6:.2f} ms"


def fmt_gbs(x):
    return "—" if x is None else f"{x:.2f}"


def fmt_ratio(x):
    return "—" if x is None else f"{x:.2f}×"


def mark(ok):
    return "met" if ok else "**not met**"


def size_name(v):
    n = int(v)
    if n >= 1 << 20:
        return f"{n >> 20} MiB"
    if n >= 1 << 10:
        return f"{n >> 10} KiB"
    return f"{n} B"


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
        have = [x for x in ("avx2", "avx512f", "avx512bw") if f" {x}" in text]
        flags = ", ".join(have)
    except OSError:
        pass
    cores = os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    try:
        rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        rustc = "rustc ?"
    return f"{cpu} ({flags}), {cores} cores, {platform.system()} {platform.release()}, {rustc}, load average {load:.1f} when the table was printed"


def unmask_table(r, out):
    peers = ["fastwebsockets"]
    out.append("### Unmasking in place (GB/s; target: ≥ 1.0× the fastest peer at every size, ≥ 0.9× memcpy from 1 KiB)\n")
    out.append("| size | start | ws-proto | fastwebsockets | byte loop | memcpy | vs fastest peer | vs memcpy | target |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    all_ok = True
    sizes = sorted({int(k[2]) for k in r if k[0] == "unmask-aligned"})
    for v in sizes:
        for group, start in (("unmask-aligned", "aligned"), ("unmask-unaligned", "unaligned")):
            cell = lambda f: r.get((group, f, str(v)))
            ws = cell("ws-proto")
            if ws is None:
                continue
            g = {f: gbs(*cell(f)) if cell(f) else None for f in ["ws-proto", "fastwebsockets", "byte-loop", "memcpy"]}
            best_peer = max((g[p] for p in peers if g[p]), default=None)
            vs_peer = g["ws-proto"] / best_peer if best_peer else None
            vs_memcpy = g["ws-proto"] / g["memcpy"] if g["memcpy"] else None
            ok = (vs_peer is None or vs_peer >= 1.0) and (v < 1024 or (vs_memcpy or 0) >= 0.9)
            all_ok &= ok
            out.append(
                f"| {size_name(v)} | {start} | {fmt_gbs(g['ws-proto'])} | {fmt_gbs(g['fastwebsockets'])} | "
                f"{fmt_gbs(g['byte-loop'])} | {fmt_gbs(g['memcpy'])} | {fmt_ratio(vs_peer)} | "
                f"{fmt_ratio(vs_memcpy) if v >= 1024 else '(' + fmt_ratio(vs_memcpy) + ')'} | {mark(ok)} |"
            )
    out.append("")
    if any(k[0] == "copy-masked" for k in r):
        out.append("Send path's masked copy (`mask::copy_masked`, aligned destination), GB/s:\n")
        out.append("| size | ws-proto copy_masked | memcpy | ratio |")
        out.append("|---|---|---|---|")
        for v in sorted({int(k[2]) for k in r if k[0] == "copy-masked"}):
            a, m = r.get(("copy-masked", "ws-proto", str(v))), r.get(("copy-masked", "memcpy", str(v)))
            if a and m:
                out.append(f"| {size_name(v)} | {fmt_gbs(gbs(*a))} | {fmt_gbs(gbs(*m))} | {fmt_ratio(gbs(*a) / gbs(*m))} |")
        out.append("")
    return all_ok


PATH_ORDER = ["ws-proto", "ws-proto-all", "ws-proto-stream", "tungstenite", "fastwebsockets", "tokio-websockets", "xor-pass", "memcpy"]


def path_table(r, root, kind, out):
    """Receive or send groups; returns {target name: met}."""
    targets = {}
    groups = [g for g in (f"{kind}-1M-16B", f"{kind}-mixed", f"{kind}-16MiB-text") if any(k[0] == g for k in r)]
    for group in groups:
        m = meta(root, group) or {}
        frames = m.get("frames")
        title = m.get("corpus", group)
        wire = m.get("wire_bytes")
        out.append(f"### {kind.capitalize()}: {title} ({frames} frames, {wire} bytes on the wire)\n")
        out.append("| implementation | time | GB/s | ns per frame | ws-proto is … × faster |")
        out.append("|---|---|---|---|---|")
        ws = r.get((group, "ws-proto", ""))
        for f in PATH_ORDER:
            cell = r.get((group, f, ""))
            if cell is None:
                continue
            ns, nbytes = cell
            per_frame = ns / frames if frames and frames > 1 else None
            speedup = ns / ws[0] if ws else None
            out.append(
                f"| {f} | {fmt_time(ns)} | {fmt_gbs(gbs(ns, nbytes))} | "
                f"{'—' if per_frame is None else f'{per_frame:.1f}'} | {fmt_ratio(speedup)} |"
            )
        out.append("")
        if kind != "receive" or ws is None:
            continue
        # Targets are judged on ws-proto's faster receive API for the corpus (`handle_read`
        # one event per call, or `handle_read_all`), named in the target line.
        best_name, best = min(
            ((f, r[(group, f, "")]) for f in ("ws-proto", "ws-proto-all") if (group, f, "") in r),
            key=lambda x: x[1][0],
        )
        peers = [r[(group, f, "")][0] for f in ("tungstenite", "fastwebsockets", "tokio-websockets") if (group, f, "") in r]
        if group.endswith("1M-16B") and frames:
            v = best[0] / frames
            vs_peer = f"; {min(peers) / best[0]:.1f}× faster than the fastest peer" if peers else ""
            targets[f"receive: ≤ 6 ns per 16-byte frame ({best_name} {v:.1f} ns{vs_peer})"] = v <= 6.0
        xor = r.get((group, "xor-pass", ""))
        if group.endswith("mixed") and xor:
            v = xor[0] / best[0]
            targets[f"mixed corpus: ≥ 0.9× the in-place XOR pass ({best_name} {v:.2f}×)"] = v >= 0.9
        mc = r.get((group, "memcpy", ""))
        if group.endswith("16MiB-text") and mc:
            v = mc[0] / best[0]
            targets[f"16 MiB text: ≥ 0.8× memcpy ({best_name} {v:.2f}×)"] = v >= 0.8
    return targets


def handshake_table(r, out):
    group = "handshake-server"
    rows = [(k[1], v[0]) for k, v in r.items() if k[0] == group]
    if not rows:
        return {}
    out.append("### Server handshake, Chromium's request from memory (parse + validate + 101)\n")
    out.append("| implementation | time per handshake |")
    out.append("|---|---|")
    order = ["ws-proto", "ws-proto-connection", "tungstenite", "tokio-websockets"]
    for f, ns in sorted(rows, key=lambda x: order.index(x[0]) if x[0] in order else 99):
        out.append(f"| {f} | {fmt_time(ns)} |")
    out.append("")
    ws = dict(rows).get("ws-proto")
    if ws is None:
        return {}
    return {f"server handshake: ≤ 0.5 µs (ws-proto {ws / 1e3:.2f} µs)": ws <= 500}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stat", choices=["best", "median", "mean"], default="best")
    ap.add_argument("--criterion", default=os.path.join(HERE, "target", "criterion"))
    args = ap.parse_args()
    r = load(args.criterion, args.stat)
    if not r:
        sys.exit(f"no criterion results under {args.criterion}: run perf/run.sh first")
    out = [f"Machine: {machine()}. Statistic: {args.stat} of criterion's samples.\n"]
    targets = {}
    body = []
    unmask_ok = unmask_table(r, body)
    if any(k[0].startswith("unmask") for k in r):
        targets["unmask: ≥ 1.0× fastest peer at every size and alignment, ≥ 0.9× memcpy from 1 KiB"] = unmask_ok
    targets.update(path_table(r, args.criterion, "receive", body))
    path_table(r, args.criterion, "send", body)
    targets.update(handshake_table(r, body))
    out.append("### Targets\n")
    out.append("| target | status |")
    out.append("|---|---|")
    for name, ok in targets.items():
        out.append(f"| {name} | {mark(ok)} |")
    out.append("")
    print("\n".join(out + body))


if __name__ == "__main__":
    main()
