"""How far the good/bad rule's labels can be predicted at all: the same image annotated twice.

EAD2020 holds some images twice under different file names (listed in the folder's
`near_duplicates.json`), annotated separately. Pairs whose pictures are the same (mean absolute
difference of 128x128 grey thumbnails below --same-image grey levels: a JPEG re-encode, not a later
video frame) show how often the rule (bad: blur, contrast and saturation boxes cover at least half of
the frame) gives one image the same label twice. From them the script reports:

- agreement: share of pairs labelled alike, and of pairs with a bad label in which both are bad;
- one annotation as the predictor of the other (both ways): sensitivity, specificity, balanced accuracy;
- Fleiss' kappa of the two annotations (the intra-class correlation of binary labels: 1 = always the same
  label, 0 = no more alike than chance);
- the ceiling of any gate: labels modelled as draws with a per-image probability q of "bad", q ~ Beta with
  the bad rate of all frames as its mean and that kappa as its intra-class correlation (variance
  kappa * rate * (1 - rate)); a gate that knew q exactly reaches the ROC AUC and best balanced accuracy
  printed (simulated), with a 95 % interval from resampling the duplicate groups.

Writes benchmarks/results/quality_label_agreement.json.

Usage: python benchmarks/quality_label_agreement.py [--data ../shared/data/ead2020] [--same-image 2.0]
    [--resamples 500]
"""

from __future__ import annotations

import argparse
import itertools
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from streamer.evaluate.classification import best_balanced_threshold, quality_metrics
from streamer.evaluate.quality_eval import label_folder
from streamer.paths import BENCHMARKS_DIR, REPO_ROOT
from streamer.train.video_split import read_near_duplicates

DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "ead2020"
THUMBNAIL = (128, 128)
SIMULATED_IMAGES = 200_000


@dataclass(frozen=True)
class PairCounts:
    """Pairs of one image annotated twice, by how many of the two labels say bad."""

    both_bad: int
    one_bad: int
    both_good: int

    @property
    def pairs(self) -> int:
        return self.both_bad + self.one_bad + self.both_good


def thumbnail(path: Path) -> np.ndarray:
    """(128, 128) float grey levels 0-255 of the image at `path`."""
    with Image.open(path) as image:
        return np.asarray(image.convert("L").resize(THUMBNAIL), dtype=np.float64)


def same_image_pairs(
    folder: Path, images: dict[str, Path], max_difference: float
) -> list[list[tuple[str, str]]]:
    """Per near-duplicate group of `folder`, its pairs of stems whose thumbnails (images: stem -> file)
    differ by < max_difference grey levels."""
    grouped = []
    for group in read_near_duplicates(folder):
        pictures = {stem: thumbnail(images[stem]) for stem in group}
        pairs = [
            (a, b)
            for a, b in itertools.combinations(group, 2)
            if np.abs(pictures[a] - pictures[b]).mean() < max_difference
        ]
        if pairs:
            grouped.append(pairs)
    return grouped


def count_pairs(pairs: list[tuple[str, str]], bad: dict[str, bool]) -> PairCounts:
    votes = [bad[a] + bad[b] for a, b in pairs]
    return PairCounts(votes.count(2), votes.count(1), votes.count(0))


def annotator_as_predictor(counts: PairCounts) -> dict[str, float]:
    """One annotation's label used to call the other's, both ways round: sensitivity, specificity, BA."""
    bad_labels = 2 * counts.both_bad + counts.one_bad
    good_labels = 2 * counts.both_good + counts.one_bad
    sensitivity = 2 * counts.both_bad / bad_labels
    specificity = 2 * counts.both_good / good_labels
    return {
        "sensitivity": sensitivity,
        "specificity": specificity,
        "balanced_accuracy": (sensitivity + specificity) / 2,
    }


def fleiss_kappa(counts: PairCounts) -> float:
    """Fleiss' kappa of two labels per item: 1 - observed / chance disagreement (nan without both kinds)."""
    pair_bad_rate = (2 * counts.both_bad + counts.one_bad) / (2 * counts.pairs)
    chance = 2 * pair_bad_rate * (1 - pair_bad_rate)
    return 1 - (counts.one_bad / counts.pairs) / chance if chance else float("nan")


def ceiling(counts: PairCounts, bad_rate: float, rng: np.random.Generator) -> dict[str, float] | None:
    """ROC AUC and best balanced accuracy of a gate that knows each image's probability q of a bad label.

    q ~ Beta with mean `bad_rate` and intra-class correlation = the pairs' Fleiss' kappa; None when the
    kappa is not in (0, 1) (no spread of q to find, or labels that never disagree)."""
    kappa = fleiss_kappa(counts)
    if not 0 < kappa < 1:
        return None
    concentration = 1 / kappa - 1
    q = rng.beta(bad_rate * concentration, (1 - bad_rate) * concentration, SIMULATED_IMAGES)
    is_bad = rng.random(SIMULATED_IMAGES) < q
    metrics = quality_metrics(is_bad, q, best_balanced_threshold(is_bad, q))
    return {
        "roc_auc": float(metrics.auc),
        "balanced_accuracy": (metrics.sensitivity + metrics.specificity) / 2,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--same-image", type=float, default=2.0, help="grey levels (0-255), thumbnail MAD")
    parser.add_argument("--resamples", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    labelled = label_folder(args.data)
    bad = {stem: truth.bad for stem, _, truth in labelled}
    bad_rate = float(np.mean(list(bad.values())))
    groups = same_image_pairs(args.data, {stem: path for stem, path, _ in labelled}, args.same_image)
    counts = count_pairs([pair for group in groups for pair in group], bad)
    rng = np.random.default_rng(args.seed)
    point = ceiling(counts, bad_rate, rng)
    draws = []
    for _ in range(args.resamples):
        chosen = rng.integers(len(groups), size=len(groups))
        drawn = ceiling(count_pairs([p for g in chosen for p in groups[g]], bad), bad_rate, rng)
        if drawn is not None:
            draws.append((drawn["roc_auc"], drawn["balanced_accuracy"]))
    low, high = np.quantile(np.array(draws), [0.025, 0.975], axis=0)
    result = {
        "frames": len(bad),
        "bad_rate": bad_rate,
        "same_image_groups": len(groups),
        "pair_counts": asdict(counts),
        "agreement": (counts.both_bad + counts.both_good) / counts.pairs,
        "both_bad_given_a_bad": counts.both_bad / (counts.both_bad + counts.one_bad),
        "fleiss_kappa": fleiss_kappa(counts),
        "annotator_as_predictor": annotator_as_predictor(counts),
        "ceiling": point,
        "ceiling_95": {
            "roc_auc": [float(low[0]), float(high[0])],
            "balanced_accuracy": [float(low[1]), float(high[1])],
        },
        "resamples_used": len(draws),
    }
    out = BENCHMARKS_DIR / "results" / "quality_label_agreement.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
