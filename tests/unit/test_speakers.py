"""Speakers of a diarized transcript: labels, per-speaker figures, renaming, SRT/VTT labels, the DataFrame view."""

from __future__ import annotations

import builtins

import pytest

from nbaudio import Transcript
from nbaudio.errors import InvalidInputError, MissingDependencyError
from nbaudio.transcript import Segment, Word

DIARIZED = {
    "task": "transcribe", "duration": 10.0, "text": "Hi there. Hello. How are you all? Fine thanks. Good.",
    "segments": [
        {"type": "transcript.text.segment", "id": "seg_0", "start": 0.0, "end": 2.0, "text": "Hi there.",
         "speaker": "A"},
        {"type": "transcript.text.segment", "id": "seg_1", "start": 2.0, "end": 3.0, "text": "Hello.", "speaker": "B"},
        {"type": "transcript.text.segment", "id": "seg_2", "start": 3.0, "end": 6.0, "text": "How are you all?",
         "speaker": "A"},
        {"type": "transcript.text.segment", "id": "seg_3", "start": 6.0, "end": 7.5, "text": "Fine thanks.",
         "speaker": "C"},
        {"type": "transcript.text.segment", "id": "seg_4", "start": 7.5, "end": 10.0, "text": "Good.", "speaker": "C"},
    ]}


@pytest.fixture
def t() -> Transcript:
    return Transcript.from_response(DIARIZED, "diarized_json")


def test_speakers_in_order_of_first_appearance(t):
    assert t.speakers == ["A", "B", "C"]


def test_by_speaker_talk_time_turns_words(t):
    stats = t.by_speaker()
    assert list(stats) == ["A", "B", "C"]
    a, b, c = stats["A"], stats["B"], stats["C"]
    assert (a.talk_time, a.turns, a.segments, a.words) == (5.0, 2, 2, 6)
    assert (b.talk_time, b.turns, b.words) == (1.0, 1, 1)
    assert (c.talk_time, c.turns, c.segments, c.words) == (4.0, 1, 2, 3)  # two segments in a row: one turn
    assert a.share == pytest.approx(0.5) and sum(s.share for s in stats.values()) == pytest.approx(1.0)
    assert "'A'" in repr(a) and "2 turns" in repr(a)


def test_words_counted_from_word_timestamps_when_there_are_any():
    seg = Segment(0, 0.0, 1.0, "one two three", speaker="A", words=[Word("one", 0, 0.3), Word("two", 0.3, 0.6)])
    assert Transcript(text="x", segments=[seg]).by_speaker()["A"].words == 2


def test_unlabelled_segment_ends_a_turn():
    segs = [Segment(0, 0, 1, "a", speaker="A"), Segment(1, 1, 2, "?"), Segment(2, 2, 3, "b", speaker="A")]
    assert Transcript(text="", segments=segs).by_speaker()["A"].turns == 2


def test_segments_for_and_unknown_name(t):
    assert [s.text for s in t.segments_for("A")] == ["Hi there.", "How are you all?"]
    with pytest.raises(InvalidInputError, match=r"'Alice' is not a speaker.*'A', 'B', 'C'"):
        t.segments_for("Alice")


def test_rename_speakers_returns_a_copy_and_can_merge(t):
    named = t.rename_speakers({"A": "Alice", "C": "Bob", "B": "Bob"})
    assert named.speakers == ["Alice", "Bob"]
    assert t.speakers == ["A", "B", "C"]  # the original is unchanged
    assert named.by_speaker()["Bob"].turns == 2  # B and C merged: B, (A), C C
    assert [s.text for s in named.segments_for("Alice")] == ["Hi there.", "How are you all?"]


@pytest.mark.parametrize("mapping, message", [
    ({"Z": "Zoe"}, r"'Z' is not a speaker of this transcript \(its speakers: 'A', 'B', 'C'\)"),
    ({"A": ""}, "non-empty string"),
    ({"A": 3}, "non-empty string"),
    ([("A", "Alice")], "needs a dict"),
])
def test_rename_speakers_refuses_bad_mappings(t, mapping, message):
    with pytest.raises(InvalidInputError, match=message):
        t.rename_speakers(mapping)


def test_srt_and_vtt_carry_speaker_labels_and_round_trip(t):
    named = t.rename_speakers({"A": "Alice <chair> & co", "B": "Bob"})
    srt = named.to_srt()
    assert "Alice <chair> & co: Hi there." in srt and "Bob: Hello." in srt
    vtt = named.to_vtt()
    assert "<v Alice &lt;chair&gt; &amp; co>Hi there.</v>" in vtt and "<v Bob>Hello.</v>" in vtt
    assert Transcript.from_vtt(vtt).speakers == ["Alice <chair> & co", "Bob", "C"]


def test_diarized_json_round_trip_against_the_schema(t, validate):
    body = t.rename_speakers({"A": "Alice"}).to_dict("diarized_json")
    validate(body, "CreateTranscriptionResponseDiarizedJson")
    assert [s["speaker"] for s in body["segments"]] == ["Alice", "B", "Alice", "C", "C"]


def test_verbose_json_segments_carry_speakers_when_known(t, validate):
    body = t.to_dict("verbose_json")
    validate(body, "CreateTranscriptionResponseVerboseJson")
    assert [s["speaker"] for s in body["segments"]] == ["A", "B", "A", "C", "C"]
    plain = Transcript(text="x", segments=[Segment(0, 0, 1, "x")]).to_dict("verbose_json")
    assert "speaker" not in plain["segments"][0]


def test_to_dataframe(t):
    import pandas as pd
    df = t.to_dataframe()
    assert list(df.columns) == ["start", "end", "duration", "speaker", "text"]
    assert df.groupby("speaker")["duration"].sum().to_dict() == {"A": 5.0, "B": 1.0, "C": 4.0}
    assert isinstance(df, pd.DataFrame)


def test_to_dataframe_without_pandas_says_what_to_install(t, monkeypatch):
    real_import = builtins.__import__

    def no_pandas(name, *args, **kwargs):
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError("No module named 'pandas'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pandas)
    with pytest.raises(MissingDependencyError, match="pip install pandas"):
        t.to_dataframe()


# ---- the diarization error rate, on cases worked out by hand ------------------------------------

from nbaudio.speakers import diarization_error_rate  # noqa: E402


def test_der_perfect_with_other_labels():
    ref = [(0, 4, "alice"), (4, 6, "bob")]
    hyp = [(0, 4, "B"), (4, 6, "A")]
    e = diarization_error_rate(ref, hyp)
    assert e.der == pytest.approx(0.0) and e.mapping == {"alice": "B", "bob": "A"}


def test_der_missed_false_alarm_confusion_by_hand():
    ref = [(0, 4, "alice"), (4, 8, "bob")]  # 8 s of speech
    # alice heard 0-3 (1 s missed), bob's 4-6 given to alice (2 s confusion), bob 6-8 right, noise 9-10 (1 s FA)
    hyp = [(0, 3, "X"), (4, 6, "X"), (6, 8, "Y"), (9, 10, "Y")]
    e = diarization_error_rate(ref, hyp)
    assert e.missed == pytest.approx(1.0) and e.confusion == pytest.approx(2.0)
    assert e.false_alarm == pytest.approx(1.0) and e.total == pytest.approx(8.0)
    assert e.der == pytest.approx(4.0 / 8.0)


def test_der_overlapping_speech_and_one_speaker_for_all():
    ref = [(0, 2, "a"), (1, 3, "b")]  # 1-2 both speak: 4 s of reference speech
    hyp = [(0, 3, "S")]
    e = diarization_error_rate(ref, hyp)
    # 1-2: two reference speakers, one hypothesis -> 1 s missed; b's 2-3 confused (mapped to a): 1 s
    assert e.missed == pytest.approx(1.0) and e.confusion == pytest.approx(1.0) and e.false_alarm == 0
    assert e.der == pytest.approx(0.5)


def test_der_collar_forgives_edges():
    ref = [(0, 5, "a"), (5, 10, "b")]
    hyp = [(0, 5.2, "A"), (5.2, 10, "B")]  # the change 0.2 s late
    assert diarization_error_rate(ref, hyp).confusion == pytest.approx(0.2)
    assert diarization_error_rate(ref, hyp, collar=0.25).der == pytest.approx(0.0)


def test_der_of_transcripts(t):
    renamed = t.rename_speakers({"A": "x", "B": "y", "C": "z"})
    assert diarization_error_rate(t, renamed).der == pytest.approx(0.0)
    assert diarization_error_rate(t, []).der == pytest.approx(1.0)


def test_der_mapping_without_scipy(monkeypatch):
    """Without scipy the best mapping is searched exhaustively (exact) for up to 8 labels a side; past
    that the score says what to install instead of giving a greedy, possibly wrong, mapping."""
    real_import = builtins.__import__

    def no_scipy(name, *args, **kwargs):
        if name.startswith("scipy"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_scipy)
    ref = [(0.0, 10.0, "r1"), (10.0, 19.0, "r1"), (19.0, 28.0, "r2")]
    hyp = [(0.0, 10.0, "h1"), (19.0, 28.0, "h1"), (10.0, 19.0, "h2")]
    assert diarization_error_rate(ref, hyp).mapping == {"r1": "h2", "r2": "h1"}  # greedy would pair r1 with h1
    many = hyp + [(28.0 + 0.2 * i, 28.1 + 0.2 * i, f"x{i}") for i in range(8)]
    with pytest.raises(MissingDependencyError, match="pip install scipy"):
        diarization_error_rate(ref, many)
