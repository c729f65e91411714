#!/usr/bin/env python3
"""Turns `mesos-bench scale` JSON lines into SVG plots (python3 stdlib only).

    target/release/mesos-bench scale > scale.jsonl
    bench/plot.py scale.jsonl            # writes bench/plots/agents.svg, bench/plots/tasks.svg

One SVG per sweep ("agents", "tasks"): small multiples, one panel per figure,
log-log axes; the line joins the medians of the runs, the dots are the runs.
Points that failed (timed out, could not start) are listed under the panels.
"""

import json
import math
import os
import statistics
import sys
from collections import defaultdict

# (JSON field, panel title) in display order.
PANELS = [
    ("client_cpu_us_per_offer", "framework CPU per offer (µs)"),
    ("client_cpu_us_per_task", "framework CPU per task (µs)"),
    ("offers", "offers received"),
    ("tasks_per_second", "tasks/s"),
    ("framework_peak_rss_mib", "framework peak RSS (MiB)"),
    ("cluster_peak_rss_mib", "mesos-local peak RSS (MiB)"),
]
TITLES = {
    "agents": "Growth with agents (fake containerizer, {tasks} tasks)",
    "tasks": "Growth with tasks (fake containerizer, {agents} agents)",
}
X_LABEL = {"agents": "agents", "tasks": "tasks"}
PANEL_W, PANEL_H = 300, 210
MARGIN_L, MARGIN_R, MARGIN_T, MARGIN_B = 62, 18, 34, 44
COLUMNS = 3


def esc(text):
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fmt(v):
    if v >= 1e6:
        return f"{v / 1e6:g}M"
    if v >= 1e3:
        return f"{v / 1e3:g}k"
    if v >= 1:
        return f"{v:g}"
    return f"{v:.2g}"


def log_ticks(lo, hi):
    """Powers of ten (and 2, 5 between them when the range is short)."""
    ticks = []
    start, end = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    short = end - start <= 2
    for e in range(start, end + 1):
        for m in ((1, 2, 5) if short else (1,)):
            v = m * 10**e
            if lo <= v <= hi:
                ticks.append(v)
    return ticks


def panel(x0, y0, field, title, points, sweep, failed_xs=()):
    """One panel; points: {x: [values of the runs]}; failed_xs: points not
    measured (on the axis, marked ✗)."""
    out = []
    w = PANEL_W - MARGIN_L - MARGIN_R
    h = PANEL_H - MARGIN_T - MARGIN_B
    left, top = x0 + MARGIN_L, y0 + MARGIN_T
    out.append(f'<text x="{x0 + PANEL_W / 2}" y="{y0 + 20}" class="t">{esc(title)}</text>')
    xs = sorted(points)
    values = [v for x in xs for v in points[x] if v and v > 0]
    if not xs or not values:
        out.append(f'<text x="{left + w / 2}" y="{top + h / 2}" class="t">no data</text>')
        return out
    failed_xs = sorted(set(failed_xs) - set(xs))
    xlo, xhi = min(xs + failed_xs), max(xs + failed_xs)
    if xlo == xhi:
        xlo, xhi = xlo / 2, xhi * 2
    ylo, yhi = min(values), max(values)
    ylo, yhi = 10 ** math.floor(math.log10(ylo)), 10 ** math.ceil(math.log10(yhi))
    if ylo == yhi:
        yhi = ylo * 10

    def px(x):
        return left + w * (math.log10(x) - math.log10(xlo)) / (math.log10(xhi) - math.log10(xlo))

    def py(y):
        return top + h - h * (math.log10(y) - math.log10(ylo)) / (math.log10(yhi) - math.log10(ylo))

    out.append(f'<rect x="{left}" y="{top}" width="{w}" height="{h}" class="frame"/>')
    for t in log_ticks(ylo, yhi):
        y = py(t)
        out.append(f'<line x1="{left}" x2="{left + w}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        out.append(f'<text x="{left - 5}" y="{y + 4:.1f}" class="yl">{fmt(t)}</text>')
    for x in xs + failed_xs:
        X = px(x)
        out.append(f'<line x1="{X:.1f}" x2="{X:.1f}" y1="{top}" y2="{top + h}" class="grid"/>')
        out.append(f'<text x="{X:.1f}" y="{top + h + 15}" class="xl">{fmt(x)}</text>')
    for x in failed_xs:
        out.append(f'<text x="{px(x):.1f}" y="{top + h / 2}" class="fail">✗</text>')
    out.append(f'<text x="{left + w / 2}" y="{top + h + 32}" class="xl">{X_LABEL[sweep]} (log)</text>')
    medians = [(x, statistics.median(v for v in points[x] if v and v > 0))
               for x in xs if any(v and v > 0 for v in points[x])]
    path = " ".join(f"{px(x):.1f},{py(m):.1f}" for x, m in medians)
    out.append(f'<polyline points="{path}" class="line"/>')
    for x in xs:
        for v in points[x]:
            if v and v > 0:
                out.append(f'<circle cx="{px(x):.1f}" cy="{py(v):.1f}" r="2.2" class="run"/>')
    for x, m in medians:
        out.append(f'<text x="{px(x):.1f}" y="{py(m) - 6:.1f}" class="v">{fmt(round(m, 3 if m < 10 else 0))}</text>')
    return out


def svg(sweep, lines):
    ok = [l for l in lines if "error" not in l]
    failed = [l for l in lines if "error" in l]
    key = "agents" if sweep == "agents" else "tasks"
    fixed = {"agents": lines[0].get("tasks"), "tasks": lines[0].get("agents")}[sweep]
    rows = math.ceil(len(PANELS) / COLUMNS)
    notes = sorted({f"{l.get(key)} {X_LABEL[sweep]}: {l['error'].replace('mesos-bench: ', '')}"
                    for l in failed})
    width = COLUMNS * PANEL_W
    height = 40 + rows * PANEL_H + 16 * len(notes) + 26
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif">',
        "<style>.t{font-size:13px;text-anchor:middle;font-weight:bold}"
        ".xl{font-size:10px;text-anchor:middle}.yl{font-size:10px;text-anchor:end}"
        ".v{font-size:9px;text-anchor:middle;fill:#1f4e9c}.n{font-size:11px}"
        ".frame{fill:none;stroke:#444}.grid{stroke:#ddd}"
        ".line{fill:none;stroke:#1f4e9c;stroke-width:2}.run{fill:#d9480f}"
        ".fail{font-size:16px;text-anchor:middle;fill:#c92a2a}</style>",
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="22" class="t" font-size="15">'
        f'{esc(TITLES[sweep].format(tasks=fixed, agents=fixed))}</text>',
    ]
    for i, (field, title) in enumerate(PANELS):
        points = defaultdict(list)
        for l in ok:
            points[l[key]].append(l.get(field))
        x0, y0 = (i % COLUMNS) * PANEL_W, 34 + (i // COLUMNS) * PANEL_H
        out += panel(x0, y0, field, title, points, sweep, [l.get(key) for l in failed])
    y = 40 + rows * PANEL_H
    out.append(f'<text x="10" y="{y}" class="n">line: median of the runs; dots: each run; '
               f'✗: not measured (below). 2-core machine.</text>')
    for note in notes:
        y += 16
        out.append(f'<text x="10" y="{y}" class="n">not measured: {esc(note[:160])}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: plot.py SCALE.jsonl [OUT_DIR]")
    out_dir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "plots")
    lines = []
    with open(sys.argv[1]) as f:
        for raw in f:
            raw = raw.strip()
            if raw.startswith("{"):
                lines.append(json.loads(raw))
    os.makedirs(out_dir, exist_ok=True)
    for sweep in ("agents", "tasks"):
        mine = [l for l in lines if l.get("sweep") == sweep]
        if not mine:
            continue
        path = os.path.join(out_dir, f"{sweep}.svg")
        with open(path, "w") as f:
            f.write(svg(sweep, mine))
        print(f"wrote {path}")
        # The medians, as a table for BENCHMARKS.md.
        key = sweep
        by_x = defaultdict(list)
        for l in mine:
            if "error" not in l:
                by_x[l[key]].append(l)
        fields = [f for f, _ in PANELS] + ["cluster_end_rss_mib", "cluster_start_seconds"]
        print("| " + key + " | " + " | ".join(fields) + " |")
        for x in sorted(by_x):
            cells = []
            for field in fields:
                vs = [l[field] for l in by_x[x] if l.get(field) is not None]
                cells.append(f"{statistics.median(vs):.4g}" if vs else "")
            print(f"| {x} | " + " | ".join(cells) + f" | ({len(by_x[x])} runs)")


if __name__ == "__main__":
    main()
