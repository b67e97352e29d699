"""The project's settings plus ``memprobe.MemProbe`` (for ``benchmarks/memory.py``)."""

from tressless_crawler.settings import *  # noqa: F403
from tressless_crawler.settings import EXTENSIONS as _EXTENSIONS

EXTENSIONS = {**_EXTENSIONS, "memprobe.MemProbe": 900}
