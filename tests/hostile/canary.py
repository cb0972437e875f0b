"""The canary key the hostile-input suite sends, and the checks that it shows nowhere.

A long `sk-proj-` key, as OpenAI issues them: long enough that a cut or shifted copy of it
(what a server echoes, what a message cuts at 80 characters) still holds a recognisable piece.
"""

from __future__ import annotations

CANARY = "sk-proj-CANARYq7Zk3Vw9Lm2Xp5Rt8Yb1Nc4Hd6Jf0Gs3Ka7Pe9Ux2Wi5Oq8Tz1Mv4By6Cr0Dn3El7Fo9Ig2Jh5Ku8Lw1Mx4"
# The shortest piece of the key that may show: anything longer is a leak.
FRAGMENT = 10


def leaked(text: str, key: str = CANARY) -> str | None:
    """The longest piece (>= FRAGMENT characters) of `key` found in `text`, or None."""
    best = None
    for start in range(len(key) - FRAGMENT + 1):
        piece = key[start:start + FRAGMENT]
        if piece in text:
            end = start + FRAGMENT
            while end < len(key) and key[start:end + 1] in text:
                end += 1
            if best is None or end - start > len(best):
                best = key[start:end]
    return best


def assert_no_key(*texts: object, key: str = CANARY) -> None:
    for text in texts:
        found = leaked(str(text), key)
        assert found is None, f"{len(found)} characters of the key show in: {str(text)[:300]!r}"


def outcomes_within(seconds: float, *calls) -> list[BaseException | None]:
    """What each of `calls` raised (None: it returned), from a thread that must finish within
    `seconds`; a call still blocked then (a FIFO read, say) fails the test."""
    import threading

    import pytest

    outcome: list[BaseException | None] = []

    def run() -> None:
        for call in calls:
            try:
                call()
                outcome.append(None)
            except BaseException as exc:  # noqa: BLE001 - the test reports whatever it was
                outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        pytest.fail(f"blocked for {seconds:g} s (a read that never ends?)")
    return outcome
