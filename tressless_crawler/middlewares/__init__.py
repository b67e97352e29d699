"""Downloader middlewares: request guards, robots.txt, retries that wait, charset repair."""
