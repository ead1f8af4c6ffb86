"""GitHub stage: API client with rate-limit handling, the batched crawl, availability signals."""
