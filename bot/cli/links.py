"""Picks in the terminal: a clickable issue name in the table, the whole URL below it.

A table cell folds or cuts a long URL at 80 columns, which no terminal can open. So the cell
names the issue as a terminal hyperlink (OSC 8, where the terminal supports it) and every URL
is also printed whole on its own line after the table, never wrapped by rich.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console
from rich.style import Style
from rich.text import Text


def issue_cell(full_name: str, number: int, title: str, url: str) -> Text:
    """`owner/repo#N` in bold as a hyperlink to `url`, then the title verbatim (never markup)."""
    cell = Text(f"{full_name}#{number}", style=Style(bold=True, link=url))
    cell.append("\n")
    cell.append(title)
    return cell


def print_links(console: Console, links: Iterable[tuple[int, str]]) -> None:
    """One line per pick, `rank. url`, the URL whole (the terminal may wrap it, rich does not)."""
    for rank, url in links:
        line = Text(f"{rank:>2}. ")
        line.append(url, style=Style(link=url))
        console.print(line, soft_wrap=True, highlight=False)
