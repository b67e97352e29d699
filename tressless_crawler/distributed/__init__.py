"""Distributed mode: several processes share one crawl frontier in Redis (scrapy-redis)."""
