"""Slack listeners: one module per command, button family, event or modal.

Each module has module-level listener functions (callable alone in a test with a fake
`context`) and a `register(app)` that attaches them. Listeners take their services from
`deps_of(context)` (`common.Deps`, put there by the `common.inject` middleware); what they raise
reaches `errors.on_error`. Adding a button: write a module with its listener and `register`,
then add the module to `LISTENERS` below.
"""

from __future__ import annotations

from types import ModuleType

from slack_bolt import App

from bot.slack.listeners import (
    command,
    edit_profile,
    forget,
    hold_buttons,
    home_opened,
    home_picks,
    people_buttons,
    pick_buttons,
    profile_modal,
)

LISTENERS: tuple[ModuleType, ...] = (
    command,  # /matchmaker …
    pick_buttons,  # Interested / Not for me / Already taken … on a pick card
    forget,  # forget: confirm / cancel
    people_buttons,  # mentor offers, invitations, #intros offer, follow-up answers
    hold_buttons,  # a claim hold's nudge: Keep / Release
    home_opened,  # App Home opened
    edit_profile,  # Home: Edit profile (opens the modal)
    home_picks,  # Home: Get picks now
    profile_modal,  # the profile modal's Save
)


def register_all(app: App) -> None:
    """Attach every listener module's listeners to `app`."""
    for module in LISTENERS:
        module.register(app)
