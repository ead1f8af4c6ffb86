"""Scheduling: APScheduler 3 jobs (crawl, digest tick, cleanup) run by one elected leader."""
