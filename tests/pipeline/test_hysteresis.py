"""Hysteresis turns a flickering per-frame verdict into steady runs."""

import pytest

from streamer.pipeline.hysteresis import Hysteresis, RunCounter
from streamer.types import QualityLabel

G, B = QualityLabel.GOOD, QualityLabel.BAD


def _smooth(labels, bad_after, good_after):
    hysteresis = Hysteresis(bad_after=bad_after, good_after=good_after)
    return [hysteresis.update(label) for label in labels]


def test_short_blips_are_ignored_and_long_runs_switch():
    frames = [G, G, B, G, G, B, B, B, B, G, B, G, G, G, G]
    assert _smooth(frames, bad_after=3, good_after=3) == [
        G, G, G, G, G, G, G, B, B, B, B, B, B, G, G,
    ]  # fmt: skip


def test_the_first_frame_sets_the_starting_state():
    assert _smooth([B, G, B, B], bad_after=2, good_after=2) == [B, B, B, B]


def test_one_frame_each_way_follows_the_frames():
    frames = [G, B, G, B, B, G]
    assert _smooth(frames, bad_after=1, good_after=1) == frames


def test_run_counter_counts_maximal_runs():
    counter = RunCounter()
    for label in [G, G, B, G, B, B, G]:
        counter.add(label)
    assert counter.runs == {"good": 3, "bad": 2}


def test_hysteresis_fewer_runs_than_the_raw_frames():
    frames = [G, B] * 10 + [B] * 5 + [G] * 5
    raw, smoothed = RunCounter(), RunCounter()
    for label, steady in zip(frames, _smooth(frames, bad_after=3, good_after=3), strict=True):
        raw.add(label)
        smoothed.add(steady)
    assert raw.runs["bad"] == 10 and smoothed.runs == {"good": 2, "bad": 1}


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        Hysteresis(bad_after=0, good_after=3)
