"""Plain-Python reference implementations, one box at a time, used to check the vectorised fusion code.

Boxes are (x1, y1, x2, y2) tuples of floats; every formula is written in the same operation order as the
documented algorithm so the tensor version must agree with it exactly on decisions.
"""

from __future__ import annotations

import math

Box = tuple[float, float, float, float]


def area(box: Box) -> float:
    return (box[2] - box[0]) * (box[3] - box[1])


def intersection(a: Box, b: Box) -> float:
    width = max(min(a[2], b[2]) - max(a[0], b[0]), 0.0)
    height = max(min(a[3], b[3]) - max(a[1], b[1]), 0.0)
    return width * height


def iou(a: Box, b: Box) -> float:
    inter = intersection(a, b)
    union = area(a) + area(b) - inter
    return inter / union if union > 0 else 0.0


def by_score(scores: list[float]) -> list[int]:
    """Indices by descending score, ties by ascending index."""
    return sorted(range(len(scores)), key=lambda i: (-scores[i], i))


def nms(boxes: list[Box], scores: list[float], threshold: float, categories: list[int]) -> list[int]:
    kept: list[int] = []
    for i in by_score(scores):
        if all(categories[k] != categories[i] or iou(boxes[k], boxes[i]) <= threshold for k in kept):
            kept.append(i)
    return kept


def soft_nms(
    boxes: list[Box], scores: list[float], categories: list[int], sigma: float, min_score: float
) -> list[tuple[int, float]]:
    """Gaussian soft-NMS: (index, decayed score) in the order the boxes are taken."""
    current = list(scores)
    remaining = set(range(len(boxes)))
    taken: list[tuple[int, float]] = []
    while remaining:
        best = min(remaining, key=lambda i: (-current[i], i))
        if current[best] < min_score:
            break
        taken.append((best, current[best]))
        remaining.remove(best)
        for i in remaining:
            if categories[i] == categories[best]:
                overlap = iou(boxes[i], boxes[best])
                current[i] = current[i] * math.exp(-(overlap * overlap) / sigma)
    return taken


Detection = tuple[Box, float, int]  # box, score, label


def stack_vote(
    models: list[list[Detection]],
    thresholds: list[float],
    *,
    per_model_threshold: float = 0.2,
    overlap_threshold: float = 0.46,
    confidence_weight: float = 0.7,
    iou_weight: float = 0.3,
    root_weight: float = 2.0,
    count_bonus: float = 0.03,
) -> list[Detection]:
    """The paper's stack vote, sequential: for i, for j > i, greedy pairs by descending overlap."""
    kept = [[d for d in model if d[1] >= per_model_threshold] for model in models]
    assigned = [[False] * len(model) for model in kept]
    stacks: list[list[tuple[int, int]]] = []
    for i, model in enumerate(kept):
        roots = [r for r in range(len(model)) if not assigned[i][r]]
        root_stack = {}
        for r in roots:
            root_stack[r] = len(stacks)
            stacks.append([(i, r)])
        for j in range(i + 1, len(kept)):
            pairs = []
            for r in roots:
                box_r, score_r, label_r = model[r]
                for c, (box_c, score_c, label_c) in enumerate(kept[j]):
                    if assigned[j][c] or label_c != label_r:
                        continue
                    overlap = confidence_weight * ((score_r + score_c) * 0.5) + iou_weight * iou(box_r, box_c)
                    if overlap >= overlap_threshold:
                        pairs.append((-overlap, r, c))
            pairs.sort()
            filled: set[int] = set()
            for _, r, c in pairs:
                if r in filled or assigned[j][c]:
                    continue
                filled.add(r)
                assigned[j][c] = True
                stacks[root_stack[r]].append((j, c))
    results: list[tuple[float, int, Detection]] = []
    for order, stack in enumerate(stacks):
        members = [kept[m][k] for m, k in stack]
        total = 0.0
        for _, score, _ in members:
            total += score
        label = members[0][2]
        if total < thresholds[label]:
            continue
        weights = [score * (root_weight if n == 0 else 1.0) for n, (_, score, _) in enumerate(members)]
        box = tuple(
            sum(w * b[d] for w, (b, _, _) in zip(weights, members, strict=True)) / sum(weights)
            for d in range(4)
        )
        score = min(total / len(members) + count_bonus * len(members), 1.0)
        results.append((score, order, (box, score, label)))
    results.sort(key=lambda item: (-item[0], item[1]))
    return [detection for _, _, detection in results]


def remove_outer_boxes(detections: list[Detection], containment: float) -> list[Detection]:
    """Drop b when a same-class a lies inside it; mutual pairs: the later in (area, -score, index) goes."""
    rank = {
        i: n
        for n, i in enumerate(
            sorted(range(len(detections)), key=lambda i: (area(detections[i][0]), -detections[i][1], i))
        )
    }
    removed = set()
    for a, (box_a, _, label_a) in enumerate(detections):
        for b, (box_b, _, label_b) in enumerate(detections):
            if a == b or label_a != label_b or area(box_a) <= 0:
                continue
            if intersection(box_a, box_b) > containment * area(box_a) and rank[a] < rank[b]:
                removed.add(b)
    return [d for i, d in enumerate(detections) if i not in removed]
