"""The spiders: ``studies`` and ``community`` (``reparse``'s lives in the archive package)."""
