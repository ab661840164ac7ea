"""`streamer eval ...` through the real CLI app."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from streamer.cli import app
from streamer.errors import ConfigError, DataError
from streamer.paths import EAD2019_SCORING

runner = CliRunner()
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def scoring_set_args(*extra: str) -> list[str]:
    gt, pred = str(EAD2019_SCORING / "ground-truth"), str(EAD2019_SCORING / "predicted")
    return ["eval", "detections", "--gt", gt, "--pred", pred, *extra]


def printed_percent(output: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)}\s*= ([0-9.]+)%", output, flags=re.MULTILINE)
    assert match, f"no '{name} = ...%' line in:\n{output}"
    return float(match.group(1))


def test_eval_detections_on_the_scoring_set(tmp_path: Path) -> None:
    result = runner.invoke(
        app, scoring_set_args("--json", str(tmp_path / "r.json"), "--plots", str(tmp_path / "p"))
    )
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "r.json").read_text())
    assert {"mAP", "IoU", "score", "per_class"} <= report.keys()
    assert set(report["per_class"]) == {
        "artifact",
        "blur",
        "bubbles",
        "contrast",
        "saturation",
        "specularity",
    }
    for values in report["per_class"].values():
        assert 0.0 <= values["AP"] <= 1.0 and 0.0 <= values["IoU"] <= 1.0
    assert 0.0 < report["IoU"] < report["mAP"] < 1.0
    assert report["score"] == 0.6 * report["mAP"] + 0.4 * report["IoU"]
    assert printed_percent(result.output, "score") == round(report["score"] * 100, 2)
    assert printed_percent(result.output, "mAP") == round(report["mAP"] * 100, 2)
    artifact_row = next(line for line in result.output.splitlines() if line.startswith("artifact"))
    assert f"{report['per_class']['artifact']['AP'] * 100:.2f}%" in artifact_row
    for name in ("ap_per_class.png", "pr_curves.png"):
        assert (tmp_path / "p" / name).read_bytes().startswith(PNG_MAGIC)


def test_eval_detections_endocv2020(tmp_path: Path) -> None:
    result = runner.invoke(
        app, scoring_set_args("--metric", "endocv2020", "--json", str(tmp_path / "r.json"))
    )
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["metric"] == "endocv2020" and len(report["iou_thresholds"]) == 11
    assert report["mAP_at"]["0.25"] > report["mAP_at"]["0.50"] > report["mAP_at"]["0.75"]
    assert printed_percent(result.output, "mAP@0.50") == round(report["mAP_at"]["0.50"] * 100, 2)


def test_eval_detections_names_the_malformed_line(tmp_path: Path) -> None:
    (tmp_path / "gt").mkdir()
    (tmp_path / "pred").mkdir()
    (tmp_path / "gt" / "a.txt").write_text("blur 1 2 3 4\n")
    (tmp_path / "pred" / "a.txt").write_text("blur 0.5 1 2 3 4\nblur 1 2 3\n")
    result = runner.invoke(
        app, ["eval", "detections", "--gt", str(tmp_path / "gt"), "--pred", str(tmp_path / "pred")]
    )
    assert isinstance(result.exception, DataError)
    assert "a.txt:2" in str(result.exception)


def test_eval_quality_from_a_table(tmp_path: Path) -> None:
    table = tmp_path / "table.csv"
    table.write_text("id,label,p_bad\na,bad,0.9\nb,bad,0.4\nc,good,0.6\nd,good,0.1\ne,bad,0.8\nf,good,0.3\n")
    args = [
        "eval",
        "quality",
        "--table",
        str(table),
        "--json",
        str(tmp_path / "q.json"),
        "--plots",
        str(tmp_path),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "q.json").read_text())
    assert report["confusion"]["counts"] == [[2, 1], [1, 2]]
    assert abs(report["auc"] - 8 / 9) < 1e-12
    assert {"accuracy", "precision", "recall", "f1", "kappa", "roc"} <= report.keys()
    assert f"ROC AUC           = {report['auc']:.4f}" in result.output
    for name in ("confusion.png", "roc.png"):
        assert (tmp_path / name).read_bytes().startswith(PNG_MAGIC)


def test_eval_quality_from_frames_jsonl(tmp_path: Path) -> None:
    frames = tmp_path / "frames.jsonl"
    frames.write_text(
        "".join(json.dumps({"index": i, "quality": {"p_bad": p}}) + "\n" for i, p in enumerate([0.2, 0.7]))
    )
    labels = tmp_path / "labels.csv"
    labels.write_text("index,label\n0,good\n1,bad\n2,bad\n")
    result = runner.invoke(
        app, ["eval", "quality", "--pred", str(frames), "--gt", str(labels), "--threshold", "0.6"]
    )
    assert result.exit_code == 0, result.output
    assert "accuracy          = 1.0000" in result.output
    assert "1 labelled frame(s) had no prediction" in result.output


def test_eval_quality_needs_inputs() -> None:
    result = runner.invoke(app, ["eval", "quality"])
    assert isinstance(result.exception, ConfigError)
