"""`streamer run --serve`: the live page's stream, its token, its lifetime and its cost to the run."""

import json
import signal
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import cv2
import numpy as np

from tests.support import ServingRun, read_jsonl, run_streamer

FRAMES = 100  # 4 s of the clip, delivered at its frame rate


def _serve(clip: Path, out: Path, *extra: str) -> ServingRun:
    return ServingRun(
        str(clip), "--realtime", "--max-frames", str(FRAMES), "--no-progress", "--out", str(out), *extra
    )


def _jpeg_parts(url: str, count: int, seconds: float = 30) -> list[np.ndarray]:
    """The first `count` JPEG images of `url`'s multipart stream (read for at most `seconds`), decoded."""
    address = urlsplit(url)
    data = b""
    with socket.create_connection((address.hostname, address.port), timeout=5) as connection:
        connection.sendall(f"GET /stream.mjpg?{address.query} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and data.count(b"--streamerframe") <= count:
            chunk = connection.recv(1 << 20)
            if not chunk:
                break
            data += chunk
    images = []
    for part in data.split(b"--streamerframe")[1:-1]:
        headers, _, body = part.partition(b"\r\n\r\n")
        length = int(headers.split(b"Content-Length: ")[1].split(b"\r\n")[0])
        images.append(cv2.imdecode(np.frombuffer(body[:length], np.uint8), cv2.IMREAD_COLOR))
    return images


def test_the_stream_shows_the_annotated_clip_and_every_frame_reaches_the_display(real_clip, tmp_path):
    run = _serve(real_clip, tmp_path / "out", "--serve", "127.0.0.1:0")
    assert urlsplit(run.url).hostname == "127.0.0.1" and urlsplit(run.url).port > 0
    started = time.monotonic()
    images = _jpeg_parts(run.url, count=25)
    code, _, stderr = run.finish()
    assert code == 0, stderr
    assert len(images) == 25 and time.monotonic() - started < FRAMES / 25 + 20
    assert all(image is not None and image.shape == (720, 1280, 3) for image in images)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    counts = summary["frames"]
    assert counts["in"] == FRAMES and counts["display_withheld"] == 0
    assert counts["displayed"] + counts["display_skipped"] == FRAMES  # skipped: the display fell behind
    assert counts["displayed"] >= 0.95 * FRAMES
    display, e2e = summary["latency_ms"]["display"], summary["latency_ms"]["e2e"]
    assert display["count"] == counts["displayed"] and 0 < display["p50"] < e2e["p50"]
    frames, _ = read_jsonl(tmp_path / "out" / "frames.jsonl")
    processed = [f for f in frames if f["dropped"] is None]
    shown = [f for f in processed if "display" in f["latency_ms"]]
    assert len(shown) >= 0.9 * len(processed)
    assert all(f["latency_ms"]["display"] < f["latency_ms"]["e2e"] for f in shown)


def test_a_viewer_that_stops_reading_does_not_slow_the_run(real_clip, tmp_path):
    alone = _serve(real_clip, tmp_path / "alone", "--serve", "127.0.0.1:0")
    assert alone.finish()[0] == 0
    watched = _serve(real_clip, tmp_path / "watched", "--serve", "127.0.0.1:0")
    address = urlsplit(watched.url)
    stalled = socket.create_connection((address.hostname, address.port))
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.sendall(b"GET /stream.mjpg HTTP/1.1\r\nHost: x\r\n\r\n")  # and never read
    code, _, stderr = watched.finish()
    stalled.close()
    assert code == 0, stderr
    fps = [json.loads((tmp_path / n / "summary.json").read_text())["fps"] for n in ("alone", "watched")]
    assert fps[1] >= 0.95 * fps[0], fps  # the stalled viewer costs the run at most 5 %


def test_off_loopback_the_token_is_required(real_clip, tmp_path):
    run = _serve(real_clip, tmp_path / "out", "--serve", "0.0.0.0:0")
    try:
        address = urlsplit(run.url)
        token = address.query.removeprefix("token=")
        assert len(token) >= 16
        base = f"http://127.0.0.1:{address.port}"
        try:
            urllib.request.urlopen(base + "/status", timeout=5)
            raise AssertionError("served without the token")
        except urllib.error.HTTPError as error:
            assert error.code == 401
        with urllib.request.urlopen(f"{base}/status?token={token}", timeout=5) as response:
            assert json.loads(response.read())["source"]
    finally:
        assert run.finish()[0] == 0


def test_the_page_lingers_after_a_file_ends_and_sigterm_ends_the_wait(real_clip, tmp_path):
    run = _serve(real_clip, tmp_path / "out", "--serve", "127.0.0.1:0", "--linger", "60")
    summary_path = tmp_path / "out" / "summary.json"
    deadline = time.monotonic() + 60
    while not summary_path.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(0.5)
    with urllib.request.urlopen(run.url + "status", timeout=5) as response:
        status = json.loads(response.read())
    assert status["phase"] == "ended" and status["summary"]["frames"]["in"] == FRAMES
    ended = time.monotonic()
    run.process.send_signal(signal.SIGTERM)
    code, stdout, _ = run.finish(timeout=20)
    assert code == 0 and time.monotonic() - ended < 10  # SIGTERM ended the linger, not its 60 s
    assert f"{FRAMES} frames processed" in stdout or "frames processed" in stdout
    try:
        urllib.request.urlopen(run.url + "status", timeout=2)
        raise AssertionError("still serving after the run")
    except urllib.error.URLError:
        pass


def test_sigterm_while_serving_finalizes_the_outputs(real_clip, tmp_path):
    run = ServingRun(str(real_clip), "--realtime", "--no-progress", "--out", str(tmp_path), "--serve", "0")
    time.sleep(3)
    run.process.send_signal(signal.SIGTERM)
    code, _, stderr = run.finish(timeout=30)
    assert code == 130, stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["interrupted"] and 0 < summary["frames"]["in"] < 250


def test_monitor_options_are_checked_before_anything_starts(tmp_path):
    for args, message in (
        (["--linger", "5"], "--serve-token and --linger need --serve"),
        (["--serve", "localhost:http"], "--serve expects [HOST:]PORT"),
        (["--serve", "70000"], "--serve port must be in 0..65535"),
        (["--serve", "0", "--linger", "-1"], "--linger must be >= 0"),
    ):
        done = run_streamer("run", "data/video/laparoscopy-720p25.mp4", "--out", str(tmp_path / "x"), *args)
        assert done.returncode != 0
        assert done.stderr.strip().splitlines()[-1].startswith("streamer: error: " + message), done.stderr
        assert not (tmp_path / "x").exists()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_streamer(
            "run",
            "data/video/laparoscopy-720p25.mp4",
            "--out",
            str(tmp_path / "y"),
            "--serve",
            f"127.0.0.1:{port}",
        )
    assert done.returncode != 0 and f"streamer: error: cannot serve on 127.0.0.1:{port}" in done.stderr
    assert not (tmp_path / "y" / "summary.json").exists()


def test_show_without_a_display_warns_once_and_the_run_goes_on(real_clip, tmp_path):
    done = run_streamer(
        "run", str(real_clip), "--show", "--max-frames", "20", "--no-progress", "--out", str(tmp_path)
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("streamer: warning: no display found; --show ignored") == 1
    summary = json.loads((tmp_path / "summary.json").read_text())
    displayed = summary["frames"]["displayed"]  # a file is read faster than shown: the display skips
    assert 0 < displayed <= 20 and summary["latency_ms"]["display"]["count"] == displayed
    assert displayed + summary["frames"]["display_skipped"] + summary["frames"]["display_withheld"] == 20
