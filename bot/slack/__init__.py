"""The Slack side of the bot: Bolt app, `/matchmaker` commands, pick cards, App Home."""
