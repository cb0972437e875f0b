"""Voices from window embeddings: average-linkage agglomeration on cosine distance, stopped at a
distance set by the recording's own spread, never merging two known speakers' voices."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["MergeDistance", "cluster_windows", "window_centroids", "KNOWN_MATCH_SIMILARITY"]

# A cluster (or window) at least this like a known speaker's reference is that speaker.
KNOWN_MATCH_SIMILARITY = 0.70
# Average linkage is quadratic in memory: beyond this many windows, neighbours are averaged first.
MAX_CLUSTER_POINTS = 1200


@dataclass(frozen=True, slots=True)
class MergeDistance:
    """Clusters merge while the closest pair is nearer than `ratio` times the median distance between
    the recording's windows, kept within [least, most] (ratio 0: `least` always)."""

    least: float
    ratio: float
    most: float

    def for_recording(self, dist: np.ndarray) -> float:
        if self.ratio <= 0 or len(dist) < 3:
            return self.least
        median = float(np.median(dist[np.triu_indices(len(dist), 1)]))
        return min(max(self.ratio * median, self.least), max(self.least, self.most))


def cluster_windows(emb: np.ndarray, full: np.ndarray, num_speakers: int | None, merge: MergeDistance,
                    min_share: float, refs: np.ndarray | None = None) -> np.ndarray:
    """A cluster per window, found among the `full` windows only (all, when under two are full); the
    others join the nearest cluster. `refs`: known speakers' unit vectors, or None."""
    if full.sum() < 2:
        return _cluster(emb, num_speakers, merge, min_share, refs)
    labels = np.empty(len(emb), np.int64)
    labels[full] = _cluster(emb[full], num_speakers, merge, min_share, refs)
    if (~full).any():
        labels[~full] = np.argmax(emb[~full] @ window_centroids(emb[full], labels[full]).T, axis=1)
    return labels


def window_centroids(emb: np.ndarray, labels: np.ndarray, ids: np.ndarray | None = None) -> np.ndarray:
    """The unit mean vector of each cluster's windows (of `ids`, or all clusters in order)."""
    ids = np.unique(labels) if ids is None else ids
    c = np.stack([emb[labels == k].mean(axis=0) for k in ids])
    return c / np.maximum(np.linalg.norm(c, axis=1, keepdims=True), 1e-12)


def _ref_tags(points: np.ndarray, refs: np.ndarray | None) -> np.ndarray:
    """The known speaker each point matches (index into refs), or -1."""
    if refs is None or len(refs) == 0:
        return np.full(len(points), -1)
    sims = points @ refs.T
    best = np.argmax(sims, axis=1)
    return np.where(sims[np.arange(len(points)), best] >= KNOWN_MATCH_SIMILARITY, best, -1)


def _cluster(emb: np.ndarray, num_speakers: int | None, merge: MergeDistance, min_share: float,
             refs: np.ndarray | None) -> np.ndarray:
    """A cluster index per window: average-linkage agglomeration on cosine distance. Two clusters that
    each match a different known speaker (`refs`, at KNOWN_MATCH_SIMILARITY) are never merged: the
    caller has told us they are two voices (in a long upload's later pieces, at a distance where two
    similar synthetic voices merged: tests/engine/test_engine_diarize.py's long upload)."""
    n = len(emb)
    if n == 1:
        return np.zeros(1, np.int64)
    # Too many windows: average runs of neighbours (one voice, mostly) and cluster those.
    group = max(1, -(-n // MAX_CLUSTER_POINTS))
    owner = np.arange(n) // group
    points = np.stack([emb[owner == g].mean(axis=0) for g in range(owner[-1] + 1)])
    points /= np.maximum(np.linalg.norm(points, axis=1, keepdims=True), 1e-12)
    m = len(points)
    dist = (1.0 - points @ points.T).astype(np.float64)
    stop = merge.for_recording(dist)
    np.fill_diagonal(dist, np.inf)
    sums = points.astype(np.float64).copy()
    tags = _ref_tags(points, refs)
    size = np.ones(m)
    members = np.arange(m)  # which cluster each point is in (cluster ids are point ids of survivors)
    clusters = m
    target = num_speakers if num_speakers else 1
    while clusters > target:
        i, j = divmod(int(np.argmin(dist)), m)
        if not np.isfinite(dist[i, j]) or (num_speakers is None and dist[i, j] > stop):
            break
        if tags[i] >= 0 and tags[j] >= 0 and tags[i] != tags[j]:
            dist[i, j] = dist[j, i] = np.inf  # two known speakers' voices: never one cluster
            continue
        # Lance-Williams for average linkage: j joins i.
        merged = (size[i] * dist[i] + size[j] * dist[j]) / (size[i] + size[j])
        dist[i], dist[:, i] = merged, merged
        dist[i, i] = np.inf
        dist[j], dist[:, j] = np.inf, np.inf
        size[i] += size[j]
        sums[i] += sums[j]
        if tags[i] < 0:
            tags[i] = tags[j] if tags[j] >= 0 else _ref_tags(sums[i:i + 1] / np.linalg.norm(sums[i]), refs)[0]
        members[members == j] = i
        clusters -= 1
    labels = members[owner]
    if num_speakers is None:
        labels = _fold_small(emb, labels, min_share)
    _, dense = np.unique(labels, return_inverse=True)
    return dense


def _fold_small(emb: np.ndarray, labels: np.ndarray, min_share: float) -> np.ndarray:
    """Clusters with under `min_share` of the windows join the big cluster nearest to them."""
    ids, counts = np.unique(labels, return_counts=True)
    big = ids[counts >= min_share * len(labels)]
    if len(big) == 0 or len(big) == len(ids):
        return labels
    cents = window_centroids(emb, labels, ids=big)
    out = labels.copy()
    for k in ids:
        if k not in big:
            mask = labels == k
            out[mask] = big[int(np.argmax(cents @ emb[mask].mean(axis=0)))]
    return out
