"""The monitor page in headless Chromium: the video updates, the status fields change, no console error.

The screenshot is kept in test-artifacts/ (or $STREAMER_TEST_ARTIFACTS) for a person to look at.
"""

import os
import shutil
from pathlib import Path

import pytest

from tests.support import REPO, ServingRun

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _artifacts() -> Path:
    folder = Path(os.environ.get("STREAMER_TEST_ARTIFACTS", REPO / "test-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _number(page, selector: str) -> float:
    return float(page.text_content(selector))


def test_the_page_shows_the_live_run(real_clip, tmp_path):
    run = ServingRun(
        str(real_clip), "--realtime", "--max-frames", "250", "--no-progress", "--out", str(tmp_path),
        "--serve", "127.0.0.1:0",
    )  # fmt: skip
    problems: list[str] = []
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.goto(run.url)
            page.wait_for_function(
                "document.getElementById('phase').textContent === 'running'", timeout=60_000
            )
            page.wait_for_function(
                "Number(document.getElementById('frames').textContent) > 10", timeout=60_000
            )
            page.wait_for_function("document.getElementById('video').naturalWidth > 0", timeout=10_000)
            frames_before = _number(page, "#frames")
            shown_before = page.locator("#video").screenshot()
            page.wait_for_timeout(1500)
            frames_after = _number(page, "#frames")
            shown_after = page.locator("#video").screenshot()
            page.screenshot(path=str(_artifacts() / "monitor.png"))
            natural_width = page.evaluate("document.getElementById('video').naturalWidth")
            verdict = page.text_content("#verdict")
            fps = _number(page, "#fps")
            latency = page.text_content("#display-latency")
            timeline_painted = page.evaluate(
                "(() => { const c = document.getElementById('timeline');"
                " const d = c.getContext('2d').getImageData(0, 0, 50, 1).data;"
                " return d.some((v, i) => i % 4 === 1 && v > 100); })()"
            )
            browser.close()
    finally:
        code, _, stderr = run.finish()
    assert code == 0, stderr
    assert shown_before != shown_after  # the video element is updating
    assert frames_after > frames_before  # and so are the status fields
    assert natural_width == 1280
    assert verdict in ("good", "bad") and fps > 10 and latency.endswith(" ms")
    assert timeline_painted
    assert problems == []
