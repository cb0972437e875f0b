"""`python -m nbaudio serve|doctor ...`: the same as the `nbaudio` command."""

from .cli import main

raise SystemExit(main())
