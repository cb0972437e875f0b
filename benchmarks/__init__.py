"""Speed and size of nbaudio against its peers (`make bench`, `python -m benchmarks`); not tests."""
