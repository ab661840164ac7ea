"""CPU fusion kernels compiled with numba: stack vote, WBF and the post-filter, one box at a time.

On a CPU, fusing 7 x 100 boxes with tensor operations costs hundreds of small operations (a few µs each);
these kernels do the same work in one compiled call on the numpy views of the CPU tensors. They follow
the rules of streamer.fusion.ensemble, streamer.fusion.wbf and streamer.fusion.postfilter exactly, with
the same float64 formulas in the same operation order, so their results equal those of the tensor code
(the tensor code stays the path for other devices; tests compare the two). One difference in WBF: the
kernel keeps each cluster's running sums, as ensemble-boxes does, while the tensor code takes differences
of prefix sums, which can differ in the last bit; a decision can then differ only where an IoU equals the
threshold or another cluster's IoU to the last bit.

The kernels are compiled on their first call and cached on disk (`cache=True`, next to this file), so a
process pays the compilation (or the loading of the cache) once: call `Fuser.warm_up()` before timing.

Inputs are flat arrays of every box of every model and image, ordered by model, then image, then index:
boxes (N, 4) float64, scores (N,) float64, labels (N,) int64, entry (N,) int64 = model * images + image.
Outputs are sorted image-major, then by descending score (ties: the order of the tensor code), with the
number of boxes per image.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_DBL_MAX = np.finfo(np.float64).max
# error_model="numpy": 0 / 0 gives nan (as in torch) instead of raising
_jit = njit(cache=True, nogil=True, error_model="numpy")


@_jit
def _iou(ax1, ay1, ax2, ay2, bx1, by1, bx2, by2):
    """IoU as streamer.ops.boxes.paired_iou computes it, nan_to_num included."""
    width = min(ax2, bx2) - max(ax1, bx1)
    height = min(ay2, by2) - max(ay1, by1)
    inter = max(width, 0.0) * max(height, 0.0)
    union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter
    iou = inter / union
    if np.isnan(iou):
        return 0.0
    if iou == np.inf:
        return _DBL_MAX
    if iou == -np.inf:
        return -_DBL_MAX
    return iou


@_jit
def _groups(group, groups):
    """Items by group, each group in item order: (members, starts (groups + 1,))."""
    counts = np.zeros(groups + 1, dtype=np.int64)
    for k in range(group.shape[0]):
        counts[group[k] + 1] += 1
    starts = np.cumsum(counts)
    fill = starts[:-1].copy()
    members = np.empty(group.shape[0], dtype=np.int64)
    for k in range(group.shape[0]):
        members[fill[group[k]]] = k
        fill[group[k]] += 1
    return members, starts


@_jit
def _by_image_then_score(image, scores, images):
    """Order of the outputs: image-major, descending score, ties in the given order; and counts per image."""
    by_score = np.argsort(-scores, kind="mergesort")
    order = by_score[np.argsort(image[by_score], kind="mergesort")]
    counts = np.zeros(images, dtype=np.int64)
    for k in range(image.shape[0]):
        counts[image[k]] += 1
    return order, counts


@_jit
def stack_vote_kernel(
    boxes,
    scores,
    labels,
    entry,
    images,
    per_model_threshold,
    vote_thresholds,
    overlap_threshold,
    confidence_weight,
    iou_weight,
    root_weight,
    count_bonus,
):
    """The stack vote (streamer.fusion.ensemble): returns boxes (D, 4), scores (D,), labels (D,), counts (B,)."""
    classes = vote_thresholds.shape[0]
    keep = np.flatnonzero(scores >= per_model_threshold)
    count = keep.shape[0]
    box = boxes[keep]
    score = scores[keep]
    label = labels[keep]
    model = entry[keep] // images
    image = entry[keep] % images
    members, starts = _groups(image * classes + label, images * classes)
    sums = np.zeros((count, 7))  # per root: sum of weight * box (4), weight, confidence, boxes
    root_of = np.arange(count)
    taken = np.zeros(count, dtype=np.bool_)  # the box joined a stack
    slot_of = np.empty(count, dtype=np.int64)  # position of an item in its group
    models = 0
    for k in range(count):
        models = max(models, model[k] + 1)
    for g in range(images * classes):
        first, last = starts[g], starts[g + 1]
        size = last - first
        if size == 0:
            continue
        # candidate pairs (a, b), model[a] < model[b], in (a, b) order, with their overlap
        pair_a = np.empty(size * (size - 1) // 2, dtype=np.int64)
        pair_b = np.empty_like(pair_a)
        pair_overlap = np.empty(pair_a.shape[0])
        pairs = 0
        for i in range(first, last):
            a = members[i]
            for j in range(first, last):
                b = members[j]
                if model[a] >= model[b]:
                    continue
                iou = _iou(
                    box[a, 0], box[a, 1], box[a, 2], box[a, 3], box[b, 0], box[b, 1], box[b, 2], box[b, 3]
                )
                overlap = confidence_weight * ((score[a] + score[b]) * 0.5) + iou_weight * iou
                if overlap >= overlap_threshold:
                    pair_a[pairs] = a
                    pair_b[pairs] = b
                    pair_overlap[pairs] = overlap
                    pairs += 1
        # priority: root's model, then descending overlap, ties in (a, b) order
        by_overlap = np.argsort(-pair_overlap[:pairs], kind="mergesort")
        root_models = np.empty(pairs, dtype=np.int64)
        for p in range(pairs):
            root_models[p] = model[pair_a[by_overlap[p]]]
        priority = by_overlap[np.argsort(root_models, kind="mergesort")]
        holds = np.zeros((size, models), dtype=np.bool_)  # [root slot, model]: the stack has its box
        for i in range(first, last):
            slot_of[members[i]] = i - first
        for p in range(pairs):
            a, b = pair_a[priority[p]], pair_b[priority[p]]
            if taken[a] or taken[b] or holds[slot_of[a], model[b]]:
                continue
            taken[b] = True
            holds[slot_of[a], model[b]] = True
            root_of[b] = a
        for i in range(first, last):
            k = members[i]
            r = root_of[k]
            weight = score[k] * (root_weight if r == k else 1.0)
            for d in range(4):
                sums[r, d] += box[k, d] * weight
            sums[r, 4] += weight
            sums[r, 5] += score[k]
            sums[r, 6] += 1.0
    elected = 0
    for k in range(count):
        if root_of[k] == k and sums[k, 5] >= vote_thresholds[label[k]]:
            elected += 1
    out_boxes = np.empty((elected, 4))
    out_scores = np.empty(elected)
    out_labels = np.empty(elected, dtype=np.int64)
    out_image = np.empty(elected, dtype=np.int64)
    n = 0
    for k in range(count):  # item order, as the tensor code's ties
        if root_of[k] == k and sums[k, 5] >= vote_thresholds[label[k]]:
            for d in range(4):
                out_boxes[n, d] = sums[k, d] / sums[k, 4]
            out_scores[n] = min(sums[k, 5] / sums[k, 6] + count_bonus * sums[k, 6], 1.0)
            out_labels[n] = label[k]
            out_image[n] = image[k]
            n += 1
    order, counts = _by_image_then_score(out_image, out_scores, images)
    return out_boxes[order], out_scores[order], out_labels[order], counts


@_jit
def wbf_kernel(boxes, scores, labels, entry, images, skip_threshold, weights, weight_sum, iou_threshold):
    """Weighted boxes fusion (streamer.fusion.wbf): returns boxes (D, 4), scores (D,), labels (D,), counts (B,).

    weights (M,) per model; weight_sum: their sum as the tensor code computes it.
    """
    models = weights.shape[0]
    keep_count = 0
    keep = np.empty(scores.shape[0], dtype=np.int64)
    for k in range(scores.shape[0]):
        if scores[k] >= skip_threshold:
            b = boxes[k]
            if (b[2] - b[0]) * (b[3] - b[1]) != 0:
                keep[keep_count] = k
                keep_count += 1
    keep = keep[:keep_count]
    box = boxes[keep]
    model = entry[keep] // images
    image = entry[keep] % images
    label = labels[keep]
    score = scores[keep] * weights[model]
    classes = 1
    for k in range(keep_count):
        classes = max(classes, label[k] + 1)
    members, starts = _groups(image * classes + label, images * classes)
    sums = np.zeros((keep_count, 6))  # per cluster (in opening order): sum of score * box (4), score, boxes
    cluster_label = np.empty(keep_count, dtype=np.int64)
    cluster_image = np.empty(keep_count, dtype=np.int64)
    clusters = 0
    for g in range(images * classes):
        first, last = starts[g], starts[g + 1]
        if first == last:
            continue
        group_members = members[first:last]
        visiting = group_members[np.argsort(-score[group_members], kind="mergesort")]
        opened = clusters
        for k in visiting:
            best, chosen = -1.0, -1
            for c in range(opened, clusters):
                weight = sums[c, 4]
                iou = _iou(
                    sums[c, 0] / weight,
                    sums[c, 1] / weight,
                    sums[c, 2] / weight,
                    sums[c, 3] / weight,
                    box[k, 0],
                    box[k, 1],
                    box[k, 2],
                    box[k, 3],
                )
                if iou > best:
                    best, chosen = iou, c
            if not best > iou_threshold:
                chosen = clusters
                cluster_label[chosen] = label[k]
                cluster_image[chosen] = image[k]
                clusters += 1
            for d in range(4):
                sums[chosen, d] += box[k, d] * score[k]
            sums[chosen, 4] += score[k]
            sums[chosen, 5] += 1.0
    out_boxes = np.empty((clusters, 4))
    out_scores = np.empty(clusters)
    for c in range(clusters):
        for d in range(4):
            out_boxes[c, d] = sums[c, d] / sums[c, 4]
        size = sums[c, 5]
        out_scores[c] = sums[c, 4] / size * min(size, float(models)) / weight_sum
    order, counts = _by_image_then_score(cluster_image[:clusters], out_scores, images)
    return out_boxes[order], out_scores[order], cluster_label[:clusters][order], counts


@_jit
def inner_box_kernel(boxes, scores, labels, counts, containment):
    """The post-filter (streamer.fusion.postfilter) on every image: keep (N,) bool.

    boxes (N, 4) float32, images one after another with counts (B,) boxes each; only boxes of one image and
    label interact.
    """
    count = boxes.shape[0]
    keep = np.ones(count, dtype=np.bool_)
    if count < 2:
        return keep
    box = boxes.astype(np.float64)
    area = (box[:, 2] - box[:, 0]) * (box[:, 3] - box[:, 1])
    by_score = np.argsort(-scores.astype(np.float64), kind="mergesort")
    by_area = by_score[np.argsort(area[by_score], kind="mergesort")]
    position = np.empty(count, dtype=np.int64)
    for n in range(count):
        position[by_area[n]] = n  # (area, -score, index)
    image = np.empty(count, dtype=np.int64)
    start = 0
    for b in range(counts.shape[0]):
        image[start : start + counts[b]] = b
        start += counts[b]
    classes = 1
    for k in range(count):
        classes = max(classes, labels[k] + 1)
    members, starts = _groups(image * classes + labels, counts.shape[0] * classes)
    for g in range(counts.shape[0] * classes):
        for i in range(starts[g], starts[g + 1]):
            a = members[i]
            if not area[a] > 0:
                continue
            limit = containment * area[a]
            for j in range(starts[g], starts[g + 1]):
                b = members[j]
                if position[a] >= position[b]:
                    continue
                width = max(min(box[a, 2], box[b, 2]) - max(box[a, 0], box[b, 0]), 0.0)
                height = max(min(box[a, 3], box[b, 3]) - max(box[a, 1], box[b, 1]), 0.0)
                if width * height > limit:
                    keep[b] = False
    return keep


@_jit
def nms_kernel(boxes, scores, categories, iou_threshold):
    """Greedy class-aware NMS (streamer.fusion.nms): kept indices (K,) by descending score, ties by index.

    boxes (N, 4) float32 or float64, IoU computed in that dtype with iou_threshold (>= 0) of that dtype, as
    the tensor code does. Per category, a kept box only checks the boxes whose x1 lies within
    [x1 - widest box, its x2] (found by bisection on the category's boxes sorted by x1), the only ones
    that can overlap it.
    """
    count = boxes.shape[0]
    by_score = np.argsort(-scores.astype(np.float64), kind="mergesort")
    order = by_score[np.argsort(categories[by_score], kind="mergesort")]  # category-major, score desc
    rank = np.empty(count, dtype=np.int64)
    for n in range(count):
        rank[by_score[n]] = n
    keep = np.zeros(count, dtype=np.bool_)
    suppressed = np.zeros(count, dtype=np.bool_)
    first = 0
    while first < count:
        last = first + 1
        while last < count and categories[order[last]] == categories[order[first]]:
            last += 1
        members = order[first:last]
        by_x = members[np.argsort(boxes[members, 0], kind="mergesort")]
        starts = boxes[by_x, 0].astype(np.float64)
        widest = 0.0
        for k in members:
            widest = max(widest, float(boxes[k, 2]) - float(boxes[k, 0]))
        for i in members:  # descending score
            if suppressed[i]:
                continue
            keep[i] = True
            ix1, iy1, ix2, iy2 = boxes[i, 0], boxes[i, 1], boxes[i, 2], boxes[i, 3]
            low = float(ix1) - widest
            low -= 1e-6 * (abs(low) + 1.0)  # a margin against rounding: scanning more is harmless
            high = float(ix2)
            high += 1e-6 * (abs(high) + 1.0)
            area_i = (ix2 - ix1) * (iy2 - iy1)
            for p in range(np.searchsorted(starts, low), np.searchsorted(starts, high, side="right")):
                j = by_x[p]
                if suppressed[j] or rank[j] <= rank[i]:
                    continue
                width = min(ix2, boxes[j, 2]) - max(ix1, boxes[j, 0])
                height = min(iy2, boxes[j, 3]) - max(iy1, boxes[j, 1])
                if width <= 0 or height <= 0:
                    continue  # no intersection: IoU 0 (or 0 / 0, which counts as 0)
                inter = width * height
                union = area_i + (boxes[j, 2] - boxes[j, 0]) * (boxes[j, 3] - boxes[j, 1]) - inter
                iou = inter / union
                if iou > iou_threshold:  # nan (0 / 0, which counts as 0) is not
                    suppressed[j] = True
        first = last
    kept = 0
    for n in range(count):
        if keep[by_score[n]]:
            kept += 1
    result = np.empty(kept, dtype=np.int64)
    kept = 0
    for n in range(count):
        if keep[by_score[n]]:
            result[kept] = by_score[n]
            kept += 1
    return result
