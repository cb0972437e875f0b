"""The engine gives the C heap's free memory back between a long transcription's windows
(nbaudio/server/models/heap.py): freed chunks pinned under live ones leave the process's resident
size once `release_free_heap` runs, not before."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc_trim, /proc")

# In a fresh process: 200 MB in 64 KB blocks (under glibc's mmap threshold, so on the heap), all
# freed but one block in ten and the last one, which keep the heap from shrinking by itself.
SCRIPT = """
import ctypes, json, os
from nbaudio.server.models.heap import release_free_heap
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
page = os.sysconf("SC_PAGE_SIZE")
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * page
blocks = [libc.malloc(64 * 1024) for _ in range(3200)]
for b in blocks:
    ctypes.memset(b, 1, 64 * 1024)  # touched: resident
full = rss()
for i, b in enumerate(blocks[:-1]):
    if i % 10:
        libc.free(b)
freed = rss()
released = release_free_heap()
print(json.dumps({"full": full, "freed": freed, "after": rss(), "released": released}))
"""


def test_release_free_heap_returns_freed_heap_pages():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True)
    m = json.loads(out.stdout)
    freed_bytes = 2880 * 64 * 1024
    assert m["freed"] > m["full"] - 0.2 * freed_bytes, "free() alone already gave the memory back"
    assert m["released"]
    assert m["after"] < m["freed"] - 0.8 * freed_bytes, m
