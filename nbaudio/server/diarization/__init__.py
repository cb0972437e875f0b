"""Who spoke when, offline: Silero VAD, Resemblyzer's speaker encoder run in numpy (`encoder`, its
weights `weights`), and clustering and known-speaker matching (`pipeline`)."""
