"""The terminal table of `streamer bench`: per-stage percentiles and the comparison with the targets."""

from __future__ import annotations

from typing import Any


def format_report(report: dict[str, Any]) -> str:
    """Human-readable summary of a bench report (see run_bench)."""
    lines = [
        f"streamer bench: {report['source']} ({report['mode']} mode, profile {report['profile']}, "
        f"backend {', '.join(report['backend'])}, {report['device']}, batch {report['batch']})",
        f"{report['processed']} frames measured after {report['warmup']} warm-up frames",
        "",
        f"{'stage':<14}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'max ms':>10}",
    ]
    for stage, stats in report["latency_ms"].items():
        lines.append(
            f"{stage:<14}{stats['p50']:>10.1f}{stats['p95']:>10.1f}{stats['p99']:>10.1f}{stats['max']:>10.1f}"
        )
    e2e = report["latency_ms"].get("e2e", {"p50": 0.0, "p99": 0.0})
    interval_ms = 1000 / report["source_fps"]
    drops = report["drops"]
    lines += [
        "",
        f"throughput {report['fps']:.1f} fps (source {report['source_fps']:.1f} fps, one frame every {interval_ms:.0f} ms); "
        f"dropped {sum(drops.values())} of {report['frames']}" + (f" {drops}" if drops else ""),
    ]
    for target in report["targets_s"]:
        verdict = "below" if e2e["p99"] <= target * 1000 else "ABOVE"
        lines.append(
            f"end-to-end p99 {e2e['p99']:.1f} ms is {verdict} the papers' {target * 1000:.0f} ms per image"
        )
    lines.append(f"real time: {'yes' if report['realtime'] else 'NO'}")
    naive = report.get("naive_loop")
    if naive:
        lines.append(
            f"naive single-thread loop (decode → infer → draw → encode, as fast as it can): {naive['fps']:.1f} fps, "
            f"p99 {naive['latency_ms']['p99']:.1f} ms per frame"
        )
        if report["mode"] == "file":
            ratio = report["fps"] / naive["fps"] if naive["fps"] else 0.0
            lines.append(f"threaded pipeline throughput: ×{ratio:.2f} the naive loop")
        else:
            keeps_up = naive["fps"] >= 0.99 * report["source_fps"]
            lines.append(
                f"the naive loop {'would' if keeps_up else 'would NOT'} keep up with the live source"
            )
    return "\n".join(lines)
