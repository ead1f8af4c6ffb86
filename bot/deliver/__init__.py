"""Digest delivery: who is due, the ledger, senders (Slack and console), exactly-once sending."""
