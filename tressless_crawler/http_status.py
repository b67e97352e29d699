"""HTTP statuses the crawler gives a meaning of its own."""

from __future__ import annotations

# A page answering one of these is gone: its study or thread is marked gone (gone_at,
# gone_status), its page record kept, and the next crawl asks for it again conditionally.
GONE_STATUSES = (404, 410)
