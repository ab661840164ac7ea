"""V4L2 device listing: nodes are probed, and a node that is no capture device says why."""

from __future__ import annotations

from pathlib import Path

from streamer.capture.devices import _fourcc, list_devices, probe_device


def test_no_matching_nodes_lists_nothing(tmp_path: Path) -> None:
    assert list_devices(str(tmp_path / "video*")) == []


def test_a_node_that_is_not_v4l2_reports_an_error_instead_of_raising() -> None:
    device = probe_device("/dev/null")
    assert device.error is not None and "not a V4L2 device" in device.error
    assert not device.capture and device.formats == []


def test_missing_node_reports_an_error(tmp_path: Path) -> None:
    assert probe_device(str(tmp_path / "video0")).error


def test_fourcc_decoding() -> None:
    assert _fourcc(0x56595559) == "YUYV"
    assert _fourcc(0x47504A4D) == "MJPG"
