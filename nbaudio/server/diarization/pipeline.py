"""Who spoke when, offline: speech found by Silero VAD, voices embedded by Resemblyzer's encoder (numpy),
clustered by average-linkage agglomeration on cosine distance, and named from known speakers' references.

1. Speech regions: faster-whisper's Silero VAD (its ONNX model ships in the faster-whisper wheel).
   Its settings and the clustering's are `Tuning`, chosen on recordings of people.
2. Windows of 1.6 s (the encoder's training length) every WINDOW_HOP_S over each region; a region
   shorter than a window is repeated to fill one, so a short reply still gets a voice.
3. Clusters, of the full-length windows only (a short region's repeated sound, or a phrase cut short
   by someone else's, is not clustered but joins the nearest cluster): average linkage, merged while
   the closest pair is nearer than a distance set by the recording's own spread of distances
   (cosine; see `Tuning`), or down to the number of speakers when it is given, never merging two
   clusters that match two different known speakers; clusters with under `min_cluster_share` of the windows are folded into
   the nearest big one (a cough, or two voices at once, is not a speaker).
4. Each 10 ms frame of speech goes to the cluster its windows resemble most; turns shorter than
   MIN_TURN_S are merged into a neighbour, and one cluster's turns with a pause under
   `same_speaker_gap_s` between them are joined (a person's pause inside a turn).
5. Known speakers: each reference is embedded the same way; a cluster whose centroid is at least
   KNOWN_MATCH_SIMILARITY like a reference takes that name (best pairs first, one to one); the other
   clusters are A, B, C... in order of first appearance (skipping names taken), as the API labels them.
"""

from __future__ import annotations

import string
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .encoder import HOP_SAMPLES, PARTIAL_FRAMES, SAMPLE_RATE, VoiceEncoder, mel_frames, normalize_volume
from .weights import EncoderWeights, encoder_weights

__all__ = ["Turn", "Diarizer", "Tuning", "TUNED", "load_diarizer", "speech_regions", "KNOWN_MATCH_SIMILARITY"]

WINDOW_SAMPLES = PARTIAL_FRAMES * HOP_SAMPLES  # 1.6 s
WINDOW_HOP_S = 0.4
MIN_TURN_S = 0.5
KNOWN_MATCH_SIMILARITY = 0.70
# Average linkage is quadratic in memory: beyond this many windows, neighbours are averaged first.
MAX_CLUSTER_POINTS = 1200
# Embedding batch: bounded so an hour of audio does not hold every window's LSTM state at once.
BATCH = 256
VAD_MIN_SPEECH_MS = 200
FRAME_S = HOP_SAMPLES / SAMPLE_RATE  # 10 ms


@dataclass(frozen=True, slots=True)
class Tuning:
    """The diarizer's settings. Measured on recordings of people (AMI excerpts trn00-trn09; see
    benchmarks/real_diarization.py, which cross-validates a grid of them between the two halves) and
    held to the tests' synthetic meeting, whole and cut into 50 s pieces (three voices in each, none
    confused).

    - vad_threshold, vad_min_silence_ms, vad_speech_pad_ms: Silero's speech probability, the pause
      that ends a region, the padding each side. Far-field meeting speech is often below Silero's
      usual 0.5 (it missed a quarter of AMI trn00's speech), and AMI's references count the breath before
      and after a phrase as speech: 0.35 and 200 ms cut the missed speech on trn00-09 (mean DER, 0.25 s
      collar, 0.554 -> 0.498, clustering as it was). Longer pauses (1 s) put the silences between
      the synthetic meeting's turns into speech; lower thresholds (0.25) took noise for speech (trn04).
    - embed_bridge_ms: regions closer than this are embedded as one stretch (windows run across the
      pause) while turns stay inside the regions: windows across the pause between two people's turns
      mix their voices.
    - cluster_distance, cluster_distance_ratio, cluster_distance_max: clusters merge while the closest
      pair (average linkage, cosine distance) is nearer than cluster_distance_ratio times the median
      distance between the recording's full-length windows, kept within [cluster_distance,
      cluster_distance_max]. Resemblyzer puts one far-field voice's windows at cosine similarity
      ~0.65-0.9 and two voices' centroids at ~0.6-0.8, so no one distance holds everywhere: where
      all windows are alike (a close-talking pair, AMI dev01: median 0.25) 0.35 made one voice of two,
      and where they are spread (a far-field voice, dev00: median 0.34) 0.30 split one voice in
      three. The ratio 1.1 was chosen on AMI trn00-09 (mean DER, 0.25 s collar, 0.480 -> 0.439; trn
      scores the same for a cap anywhere in 0.34-0.42); the cap 0.36 is below the synthetic meeting's
      second-closest voices in one piece (0.372, tests/engine/test_engine_diarize.py), whose three
      voices spread its windows (median 0.41). Pieces of a long upload, which come with the speakers
      already heard as references, also keep two references' voices apart (see `_cluster`).
    - min_cluster_share: clusters with fewer of the full-length windows fold into the nearest bigger
      one, so a cough or a laugh does not become a speaker.
    - same_speaker_gap_s: two turns of one cluster with a pause shorter than this between them are one
      turn (people pause inside a turn; AMI's references keep such a turn whole). Between two people's
      turns nothing is filled (trn00-09: 0.484 -> 0.480). 2 s took the silence between a person's phrases
      for speech (trn04).
    """

    vad_threshold: float = 0.35
    vad_min_silence_ms: int = 250
    vad_speech_pad_ms: int = 200
    embed_bridge_ms: int = 0
    cluster_distance: float = 0.30
    cluster_distance_ratio: float = 1.1
    cluster_distance_max: float = 0.36
    min_cluster_share: float = 0.04
    same_speaker_gap_s: float = 1.0


TUNED = Tuning()


@dataclass(frozen=True, slots=True)
class Turn:
    start: float
    end: float
    speaker: str


class Diarizer:
    """The speaker encoder, loaded once; `diarize()` and `embed_reference()` are safe to call from threads."""

    def __init__(self, weights: EncoderWeights) -> None:
        self.encoder = VoiceEncoder.from_file(weights.path)
        self.origin = weights.origin

    # ---- embeddings ------------------------------------------------------------------------
    def _embed_windows(self, samples: np.ndarray, windows: list[tuple[int, int]]) -> np.ndarray:
        out = np.empty((len(windows), self.encoder.linear_w.shape[1]), np.float32)
        for a in range(0, len(windows), BATCH):
            mels = []
            for s, e in windows[a:a + BATCH]:
                piece = samples[s:e]
                if len(piece) < WINDOW_SAMPLES:  # a short region, repeated to fill the window
                    piece = np.resize(piece, WINDOW_SAMPLES)
                mels.append(mel_frames(piece[:WINDOW_SAMPLES])[:PARTIAL_FRAMES])
            out[a:a + len(mels)] = self.encoder.embed(np.stack(mels))
        return out

    def embed_reference(self, samples: np.ndarray) -> np.ndarray:
        """One unit vector for a clip of one speaker (16 kHz): the mean of its windows' embeddings."""
        x = normalize_volume(samples)
        regions = speech_regions(x) or [(0, len(x))]
        speech = np.concatenate([x[s:e] for s, e in regions])
        windows = _windows([(0, len(speech))], hop=WINDOW_SAMPLES // 2)
        mean = self._embed_windows(speech, windows).mean(axis=0)
        return mean / max(float(np.linalg.norm(mean)), 1e-12)

    # ---- diarization -----------------------------------------------------------------------
    def diarize(self, samples: np.ndarray, *, num_speakers: int | None = None,
                known: dict[str, np.ndarray] | None = None, tuning: Tuning = TUNED) -> list[Turn]:
        """Turns of 16 kHz mono `samples`; `known` maps names to `embed_reference` vectors."""
        x = normalize_volume(samples)
        regions = speech_regions(x, tuning)
        if not regions:
            return []
        windows = _windows(_bridged(regions, int(tuning.embed_bridge_ms * SAMPLE_RATE / 1000)),
                           hop=int(WINDOW_HOP_S * SAMPLE_RATE))
        emb = self._embed_windows(x, windows)
        refs = np.stack(list(known.values())) if known else None
        labels = _cluster_full_windows(emb, windows, num_speakers, tuning, refs)
        centroids = _centroids(emb, labels)
        frames = _frame_labels(len(x), windows, emb, centroids, regions)
        turns = _joined(_turns(frames, regions), tuning.same_speaker_gap_s)
        names = _names(centroids, turns, known or {})
        return [Turn(round(s, 3), round(e, 3), names[k]) for s, e, k in turns]


_LOCK = threading.Lock()
_LOADED: dict[Path, Diarizer] = {}


def load_diarizer(cache_dir: Path) -> Diarizer:
    """The process's Diarizer (weights found, verified and read once)."""
    with _LOCK:
        key = Path(cache_dir)
        if key not in _LOADED:
            _LOADED[key] = Diarizer(encoder_weights(key))
        return _LOADED[key]


def speech_regions(samples: np.ndarray, tuning: Tuning = TUNED) -> list[tuple[int, int]]:
    """(start, end) sample ranges of speech, by faster-whisper's Silero VAD."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    opts = VadOptions(threshold=tuning.vad_threshold, min_silence_duration_ms=tuning.vad_min_silence_ms,
                      speech_pad_ms=tuning.vad_speech_pad_ms, min_speech_duration_ms=VAD_MIN_SPEECH_MS)
    return [(int(t["start"]), int(t["end"])) for t in get_speech_timestamps(samples, opts, sampling_rate=SAMPLE_RATE)]


def _bridged(regions: list[tuple[int, int]], gap: int) -> list[tuple[int, int]]:
    """Regions with pauses shorter than `gap` samples between them joined into one."""
    out: list[tuple[int, int]] = []
    for s, e in regions:
        if out and s - out[-1][1] < gap:
            out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def _windows(regions: list[tuple[int, int]], hop: int) -> list[tuple[int, int]]:
    """1.6 s windows every `hop` samples over each region (the last one flush with its end)."""
    out = []
    for s, e in regions:
        if e - s <= WINDOW_SAMPLES:
            out.append((s, e))
            continue
        starts = list(range(s, e - WINDOW_SAMPLES + 1, hop))
        if starts[-1] != e - WINDOW_SAMPLES:
            starts.append(e - WINDOW_SAMPLES)
        out.extend((a, a + WINDOW_SAMPLES) for a in starts)
    return out


def _cluster_full_windows(emb: np.ndarray, windows: list[tuple[int, int]], num_speakers: int | None,
                          tuning: Tuning, refs: np.ndarray | None = None) -> np.ndarray:
    """A cluster per window, found among the full-length windows only; the windows of regions shorter
    than a window (a short reply repeated to fill it, or a phrase cut by someone else's) join the
    nearest cluster. Such windows, in overlapped talk most of all, hold mixed or repeated sound and
    made clusters of their own: on AMI trn00 / trn04 / trn08, 5 / 4 / 7 speakers found of 3 / 3 / 4, and
    3 / 3 / 3 with them kept out (mean DER on trn00-09 0.498 -> 0.484)."""
    full = np.array([e - s >= WINDOW_SAMPLES for s, e in windows])
    if full.sum() < 2:
        return _cluster(emb, num_speakers, tuning, refs)
    labels = np.empty(len(emb), np.int64)
    labels[full] = _cluster(emb[full], num_speakers, tuning, refs)
    if (~full).any():
        labels[~full] = np.argmax(emb[~full] @ _centroids(emb[full], labels[full]).T, axis=1)
    return labels


def _stop_distance(dist: np.ndarray, tuning: Tuning) -> float:
    """The merge distance for this recording: `cluster_distance_ratio` times the median distance
    between its windows, kept within [cluster_distance, cluster_distance_max]."""
    if tuning.cluster_distance_ratio <= 0 or len(dist) < 3:
        return tuning.cluster_distance
    median = float(np.median(dist[np.triu_indices(len(dist), 1)]))
    return min(max(tuning.cluster_distance_ratio * median, tuning.cluster_distance),
               max(tuning.cluster_distance, tuning.cluster_distance_max))


def _ref_tags(points: np.ndarray, refs: np.ndarray | None) -> np.ndarray:
    """The known speaker each point matches (index into refs), or -1."""
    if refs is None or len(refs) == 0:
        return np.full(len(points), -1)
    sims = points @ refs.T
    best = np.argmax(sims, axis=1)
    return np.where(sims[np.arange(len(points)), best] >= KNOWN_MATCH_SIMILARITY, best, -1)


def _cluster(emb: np.ndarray, num_speakers: int | None, tuning: Tuning,
             refs: np.ndarray | None = None) -> np.ndarray:
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
    stop = _stop_distance(dist, tuning)
    np.fill_diagonal(dist, np.inf)
    sums = points.astype(np.float64).copy()
    tags = _ref_tags(points, refs)
    size = np.ones(m)
    members = np.arange(m)  # which cluster each point is in (cluster ids are point ids of survivors)
    alive = np.ones(m, bool)
    clusters = m
    target = num_speakers if num_speakers else 1
    while clusters > target:
        flat = int(np.argmin(dist))
        i, j = divmod(flat, m)
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
        tags[i] = tags[i] if tags[i] >= 0 else tags[j]
        if refs is not None and tags[i] < 0:
            tags[i] = _ref_tags(sums[i:i + 1] / np.linalg.norm(sums[i]), refs)[0]
        alive[j] = False
        members[members == j] = i
        clusters -= 1
    labels = members[owner]
    if num_speakers is None:
        labels = _fold_small(emb, labels, tuning.min_cluster_share)
    _, dense = np.unique(labels, return_inverse=True)
    return dense


def _fold_small(emb: np.ndarray, labels: np.ndarray, min_share: float) -> np.ndarray:
    """Clusters with under `min_share` of the windows join the big cluster nearest to them."""
    ids, counts = np.unique(labels, return_counts=True)
    big = ids[counts >= min_share * len(labels)]
    if len(big) == 0 or len(big) == len(ids):
        return labels
    cents = _centroids(emb, labels, ids=big)
    out = labels.copy()
    for k in ids:
        if k not in big:
            mask = labels == k
            out[mask] = big[int(np.argmax(cents @ emb[mask].mean(axis=0)))]
    return out


def _centroids(emb: np.ndarray, labels: np.ndarray, ids: np.ndarray | None = None) -> np.ndarray:
    ids = np.unique(labels) if ids is None else ids
    c = np.stack([emb[labels == k].mean(axis=0) for k in ids])
    return c / np.maximum(np.linalg.norm(c, axis=1, keepdims=True), 1e-12)


def _frame_labels(n_samples: int, windows: list[tuple[int, int]], emb: np.ndarray, centroids: np.ndarray,
                  regions: list[tuple[int, int]]) -> np.ndarray:
    """A cluster per 10 ms frame (-1 outside speech): the one its covering windows are most like on average."""
    n = n_samples // HOP_SAMPLES + 1
    sims = emb @ centroids.T
    acc = np.zeros((n + 1, centroids.shape[0]))
    cnt = np.zeros(n + 1)
    for (s, e), row in zip(windows, sims, strict=True):
        a, b = s // HOP_SAMPLES, min(n, -(-e // HOP_SAMPLES))
        acc[a] += row
        acc[b] -= row
        cnt[a] += 1
        cnt[b] -= 1
    score = np.cumsum(acc, axis=0)[:n]
    covered = np.cumsum(cnt)[:n] > 0.5
    labels = np.full(n, -1, np.int64)
    speech = np.zeros(n, bool)
    for s, e in regions:
        speech[s // HOP_SAMPLES:min(n, -(-e // HOP_SAMPLES))] = True
    pick = speech & covered
    labels[pick] = np.argmax(score[pick], axis=1)
    return labels


def _turns(frames: np.ndarray, regions: list[tuple[int, int]]) -> list[tuple[float, float, int]]:
    """(start s, end s, cluster) runs inside each region, runs under MIN_TURN_S merged into a neighbour."""
    out: list[tuple[float, float, int]] = []
    min_frames = int(MIN_TURN_S / FRAME_S)
    for s, e in regions:
        a, b = s // HOP_SAMPLES, min(len(frames), -(-e // HOP_SAMPLES))
        lab = frames[a:b]
        runs = _runs(lab[lab >= 0]) if (lab >= 0).any() else []
        while len(runs) > 1:
            k = min(range(len(runs)), key=lambda i: runs[i][1])
            if runs[k][1] >= min_frames:
                break
            # the short run joins the longer of its neighbours
            left, right = (runs[k - 1] if k > 0 else None), (runs[k + 1] if k + 1 < len(runs) else None)
            into = k - 1 if right is None or (left is not None and left[1] >= right[1]) else k + 1
            runs[into] = (runs[into][0], runs[into][1] + runs[k][1])
            del runs[k]
            runs = _merge_equal(runs)
        t = a
        for label, length in runs:
            out.append((t * FRAME_S, min(e / SAMPLE_RATE, (t + length) * FRAME_S), label))
            t += length
    return out


def _joined(turns: list[tuple[float, float, int]], gap_s: float) -> list[tuple[float, float, int]]:
    """Turns of one cluster with a pause under `gap_s` between them made one turn."""
    out: list[tuple[float, float, int]] = []
    for s, e, k in turns:
        if out and out[-1][2] == k and s - out[-1][1] < gap_s:
            out[-1] = (out[-1][0], e, k)
        else:
            out.append((s, e, k))
    return out


def _runs(labels: np.ndarray) -> list[tuple[int, int]]:
    """(label, length) of each run of equal labels."""
    edges = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate(([0], edges))
    ends = np.concatenate((edges, [len(labels)]))
    return [(int(labels[a]), int(b - a)) for a, b in zip(starts, ends, strict=True)]


def _merge_equal(runs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for label, length in runs:
        if out and out[-1][0] == label:
            out[-1] = (label, out[-1][1] + length)
        else:
            out.append((label, length))
    return out


def _names(centroids: np.ndarray, turns: list[tuple[float, float, int]],
           known: dict[str, np.ndarray]) -> dict[int, str]:
    """A name per cluster: a known speaker's when its reference matches, else the next free letter."""
    names: dict[int, str] = {}
    if known:
        refs = np.stack(list(known.values()))
        sims = centroids @ refs.T
        for flat in np.argsort(sims, axis=None)[::-1]:
            k, r = divmod(int(flat), len(known))
            if sims[k, r] < KNOWN_MATCH_SIMILARITY:
                break
            name = list(known)[r]
            if k not in names and name not in names.values():
                names[k] = name
    taken = set(names.values())
    letters = iter(x for x in list(string.ascii_uppercase) + [f"S{i}" for i in range(27, 10000)] if x not in taken)
    for _, _, k in sorted(turns):
        if k not in names:
            names[k] = next(letters)
    for k in range(len(centroids)):
        names.setdefault(k, next(letters))
    return names
