"""Rules shared by every stage above the store, each in its own module.

* `bot.core.availability`: what "available" means, for whom, and why (rules with reasons);
* `bot.core.vocabulary`: feedback kinds, pick states, levels, weekdays, the feedback buttons;
* `bot.core.clock`: the one wall clock entry points read.

Nothing is imported here, so `bot.config` can use the vocabulary without an import cycle.
"""

__all__ = ["availability", "clock", "vocabulary"]
