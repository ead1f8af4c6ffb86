"""Matching: member profiles, eligibility, scoring and ranking of available issues."""
