#!/usr/bin/env python3
"""Summarize the runs of bench-cold-start.sh: medians, a Markdown table and a bar chart.

Usage: cold_start_report.py RESULTS_DIR CHART_PNG BUSY_CPU_BEFORE

Reads RESULTS_DIR/run-*.json and RESULTS_DIR/limit-*.json, writes RESULTS_DIR/summary.json and
RESULTS_DIR/summary.md, and draws the medians of every image and mode into CHART_PNG (needs
matplotlib; Debian's python3-matplotlib).
"""
import glob
import json
import os
import statistics
import sys

# The chart shows these modes when they ran; the tables also list lazy-no-background.
MODES = ("full-disk", "full-tmpfs", "lazy", "lazy-prefetch")
TABLE_MODES = MODES + ("lazy-no-background",)
MODE_LABELS = {
    "full-disk": "full pull, root on disk",
    "full-tmpfs": "full pull, root on tmpfs",
    "lazy": "lazy pull (jsoci)",
    "lazy-prefetch": "lazy pull, prefetch files",
}
MODE_COLORS = {
    "full-disk": "#8c8c8c",
    "full-tmpfs": "#4c72b0",
    "lazy": "#dd8452",
    "lazy-prefetch": "#55a868",
}


def load_runs(results):
    runs = {}
    for path in sorted(glob.glob(os.path.join(results, "run-*.json"))):
        with open(path) as f:
            run = json.load(f)
        runs.setdefault(run["image"], {}).setdefault(run["mode"], []).append(run)
    return runs


def summarize(results, runs):
    images = []
    for image in sorted(runs, key=lambda name: next(iter(runs[name].values()))[0]["image_mib"]):
        by_mode = runs[image]
        first = next(iter(by_mode.values()))[0]
        with open(os.path.join(results, f"limit-{image}.json")) as f:
            limit = json.load(f)
        row = {
            "image": image,
            "image_mib": first["image_mib"],
            "image_compressed_bytes": first["image_compressed_bytes"],
            "startup_percent": first["startup_percent"],
            "startup_bytes": first["startup_bytes"],
            "limit_seconds": limit["seconds"],
            "limit_bytes": limit["bytes"],
            "ztoc_bytes": limit["ztoc_bytes"],
            "modes": {},
        }
        for mode in TABLE_MODES:
            mode_runs = by_mode.get(mode, [])
            if not mode_runs:
                continue
            row["modes"][mode] = {
                "runs": len(mode_runs),
                "median_seconds": statistics.median(r["seconds"] for r in mode_runs),
                "min_seconds": min(r["seconds"] for r in mode_runs),
                "max_seconds": max(r["seconds"] for r in mode_runs),
                "median_pull_seconds": statistics.median(r["pull_seconds"] for r in mode_runs),
                # From the end of the pull to the first line: container start and start-up reads.
                "median_run_seconds": statistics.median(
                    r["seconds"] - r["pull_seconds"] for r in mode_runs),
                "median_bytes_received": statistics.median(r["bytes_received"] for r in mode_runs),
                "median_busy_cpu_percent": statistics.median(r["busy_cpu_percent"] for r in mode_runs),
                "all_outputs_match": all(r["output_matches"] for r in mode_runs),
            }
        images.append(row)
    return images


def median_of(row, mode):
    return row["modes"].get(mode, {}).get("median_seconds")


def ratio(numerator, denominator):
    if numerator is None or denominator is None or denominator == 0:
        return "n/a"
    return f"{numerator / denominator:.1f}"


def markdown(images):
    lines = [
        "| image | gzip MiB | start-up set | full pull, disk (s) | full pull, tmpfs (s) | lazy (s) "
        "| disk / lazy | tmpfs / lazy | limit (s) | lazy / limit | lazy, no background fetch (s) "
        "| lazy, prefetch files (s) | disk / lazy, prefetch | lazy, prefetch / limit |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in images:
        disk, tmpfs, lazy, prefetch = (median_of(row, mode) for mode in MODES)
        no_background = median_of(row, "lazy-no-background")
        cells = [
            f"{row['image_mib'] / 1024:.1f} GiB, {row['startup_percent']:g}%",
            f"{row['image_compressed_bytes'] / 1048576:.0f}",
            f"{row['startup_bytes'] / 1048576:.1f} MiB",
            f"{disk:.2f}" if disk is not None else "n/a",
            f"{tmpfs:.2f}" if tmpfs is not None else "n/a",
            f"{lazy:.2f}" if lazy is not None else "n/a",
            ratio(disk, lazy),
            ratio(tmpfs, lazy),
            f"{row['limit_seconds']:.2f}",
            ratio(lazy, row["limit_seconds"]),
            f"{no_background:.2f}" if no_background is not None else "n/a",
            f"{prefetch:.2f}" if prefetch is not None else "n/a",
            ratio(disk, prefetch),
            ratio(prefetch, row["limit_seconds"]),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("| image | mode | runs | median s | range s | median pull s | median run s "
                 "| median MB received | median busy CPU | output correct |")
    lines.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in images:
        for mode, stats in row["modes"].items():  # in TABLE_MODES order
            lines.append(
                f"| {row['image_mib'] / 1024:.1f} GiB, {row['startup_percent']:g}% | {mode} "
                f"| {stats['runs']} | {stats['median_seconds']:.2f} "
                f"| {stats['min_seconds']:.2f}-{stats['max_seconds']:.2f} "
                f"| {stats['median_pull_seconds']:.2f} | {stats['median_run_seconds']:.2f} "
                f"| {stats['median_bytes_received'] / 1e6:.1f} "
                f"| {stats['median_busy_cpu_percent']:.0f}% | {'yes' if stats['all_outputs_match'] else 'NO'} |")
    return "\n".join(lines) + "\n"


def chart(images, path, subtitle):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(9, 5), dpi=120)
    charted_modes = [mode for mode in MODES if any(median_of(row, mode) is not None for row in images)]
    width = 0.8 / len(charted_modes)
    positions = range(len(images))
    for index, mode in enumerate(charted_modes):
        values = [median_of(row, mode) or 0 for row in images]
        offsets = [p + (index - (len(charted_modes) - 1) / 2) * width for p in positions]
        bars = axes.bar(offsets, values, width, label=MODE_LABELS[mode], color=MODE_COLORS[mode])
        for bar, value in zip(bars, values):
            axes.annotate(f"{value:.1f} s" if value >= 1 else f"{value:.2f} s",
                          (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                          xytext=(0, 3), textcoords="offset points", ha="center", va="bottom",
                          fontsize=9)
    axes.set_xticks(list(positions))
    axes.set_xticklabels([
        f"{row['image_mib'] / 1024:.1f} GiB image\nstart reads {row['startup_percent']:g}%"
        for row in images])
    axes.set_ylabel("seconds from pull to first output (median)")
    axes.set_title("Cold start: full pull against lazy pull\n" + subtitle, fontsize=11)
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=len(charted_modes), frameon=False)
    axes.spines["top"].set_visible(False)
    axes.spines["right"].set_visible(False)
    top = max((median_of(row, mode) or 0) for row in images for mode in MODES) or 1
    axes.set_ylim(0, top * 1.12)
    figure.tight_layout()
    figure.savefig(path)


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: cold_start_report.py RESULTS_DIR CHART_PNG BUSY_CPU_BEFORE")
    results, chart_path, busy_before = sys.argv[1], sys.argv[2], sys.argv[3]
    runs = load_runs(results)
    if not runs:
        sys.exit(f"cold_start_report.py: no run-*.json in {results}")
    images = summarize(results, runs)
    any_run = next(iter(next(iter(runs.values())).values()))[0]
    with open(os.path.join(results, "summary.json"), "w") as f:
        json.dump({"busy_cpu_before_percent": int(busy_before), "images": images}, f, indent=1)
    table = markdown(images)
    with open(os.path.join(results, "summary.md"), "w") as f:
        f.write(table)
    print(table)
    chart(images, chart_path,
          f"link {any_run['rate']}, {any_run['rtt_ms']:g} ms RTT; containerd 1.6")


if __name__ == "__main__":
    main()
