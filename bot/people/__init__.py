"""People around the projects: mentors, buddies, intros, follow-ups (all opt-in per member).

Reads the store (members, feedback, repositories) and writes its own tables; messages go out
through `bot.deliver.intros` (the people ledger).
"""
