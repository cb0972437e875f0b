"""Write the English-then-German test file (tests/support/real_speech.language_switch) to listen to.

    python tools/make_language_switch.py OUT.flac

It is made from vendored recordings of people (tests/fixtures/real_speech/README.md) each time it
is needed, so it is not stored; this writes it, with each half's span and reference.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    import soundfile as sf

    from tests.support.real_speech import language_switch

    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    switch = language_switch()
    sf.write(sys.argv[1], switch.samples, 16000, format="FLAC", subtype="PCM_16")
    for lang, reference, start, end in switch.halves:
        print(f"{lang} {start:.2f}-{end:.2f} s: {reference}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
