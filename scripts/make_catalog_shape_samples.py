"""Write the synthetic awesome-list samples of other shapes used by the catalog tests.

Three lists (homepage link first and the GitHub source after it, GFM tables, HTML links),
each with a sidecar `<name>.expected` holding the repositories a reader should find, one per
line. The names are invented; the generator is deterministic (fixed seed).

    uv run python scripts/make_catalog_shape_samples.py
"""

from __future__ import annotations

import random
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "tests" / "catalog" / "samples"
WORDS = tuple(
    [
        "raft",
        "paxos",
        "quorum",
        "ledger",
        "shard",
        "vector",
        "stream",
        "queue",
        "cache",
        "mesh",
        "gossip",
        "lattice",
        "beacon",
        "harbor",
        "tide",
        "ember",
        "quartz",
        "orbit",
        "relay",
        "pivot",
        "delta",
        "kappa",
        "sigma",
        "nimbus",
    ]
)
LANGS = ("Go", "Rust", "Java", "C++", "Python", "Erlang", "Scala", "Zig")
SECTIONS = ("Consensus", "Storage Engines", "Message Queues", "Coordination", "Caches")
SOURCE_TEXTS = ("Source Code", "Source", "GitHub", "repo", "source code", "Repository")


def project(rng: random.Random, n: int) -> tuple[str, str, str]:
    name = f"{rng.choice(WORDS).capitalize()}{rng.choice(WORDS)}{n}"
    owner = f"{rng.choice(WORDS)}-labs{n % 7}"
    return name, f"{owner}/{name.lower()}", rng.choice(LANGS)


def homepage_first(rng: random.Random) -> tuple[str, list[str]]:
    lines = ["# Awesome Homepages", "", "Projects by homepage, with their code linked after.", ""]
    lines += ["## Contents", "", *(f"- [{s}](#{s.lower().replace(' ', '-')})" for s in SECTIONS)]
    expected: list[str] = []
    n = 0
    for section in SECTIONS:
        lines += ["", f"## {section}", ""]
        for _ in range(14):
            n += 1
            name, repo, lang = project(rng, n)
            home = f"https://{name.lower()}.example.io"
            src = f"https://github.com/{repo}"
            text = rng.choice(SOURCE_TEXTS)
            shape = n % 7
            if shape == 0:
                line = f"- [{name}]({home}) - A {lang} {rng.choice(WORDS)} store. [{text}]({src})"
            elif shape == 1:
                line = f"- [{name}]({home}) ([{text}]({src})) - Replicated {rng.choice(WORDS)}."
            elif shape == 2:
                docs = f"[Docs]({home}/docs)"
                line = f"- **[{name}]({home})** — {lang} service · [{text}]({src}) · {docs}"
            elif shape == 3:  # first link already GitHub, a website after it
                line = f"- [{name}]({src}) - Fast {rng.choice(WORDS)}. [Website]({home})"
            elif shape == 4:  # a mention of another project in the text: not its source
                other = project(rng, n + 500)[1]
                line = (
                    f"- [{name}]({home}) - Built on [{other.split('/')[1]}]"
                    f"(https://github.com/{other}). [{text}]({src})"
                )
            elif shape == 5:
                line = f"- [{name}]({home}) - Closed-source {lang} product, homepage only."
                lines.append(line)
                continue  # not a GitHub project: nothing expected
            else:
                line = f"- ({lang}) [{name}]({home}): {rng.choice(WORDS)} engine, [{text}]({src})."
            lines.append(line)
            expected.append(repo)
    lines += ["", "## Contributing", "", "- [Guidelines](https://github.com/awesome-x/homepages)"]
    return "\n".join(lines) + "\n", expected


def tables(rng: random.Random) -> tuple[str, list[str]]:
    lines = ["# Awesome Tables", "", "Every project in a table.", ""]
    expected: list[str] = []
    n = 0
    for index, section in enumerate(SECTIONS):
        lines += [f"## {section}", ""]
        if index % 3 == 0:
            lines += ["| Name | Language | Description |", "|------|:--------:|-------------|"]
        elif index % 3 == 1:
            lines += ["| Project | Description | Source |", "| --- | --- | --- |"]
        else:
            lines += ["| Project | Stars | Language | Notes |", "|:-|-:|-|-|"]
        for _ in range(16):
            n += 1
            name, repo, lang = project(rng, n)
            src = f"https://github.com/{repo}"
            home = f"https://{name.lower()}.example.dev"
            desc = f"A {rng.choice(WORDS)} {rng.choice(WORDS)} | with a pipe".replace("|", "\\|")
            if index % 3 == 0:
                lines.append(f"| [{name}]({src}) | {lang} | {desc} |")
                expected.append(repo)
            elif index % 3 == 1:
                if n % 5 == 0:  # no source: homepage only
                    lines.append(f"| [{name}]({home}) | {desc} | — |")
                else:
                    lines.append(f"| [{name}]({home}) | {desc} | [GitHub]({src}) |")
                    expected.append(repo)
            else:
                badge = f"![stars](https://img.shields.io/github/stars/{repo})"
                lines.append(f"| **{name}** | {badge} | {lang} | [repo]({src}) |")
                expected.append(repo)
        lines.append("")
    return "\n".join(lines), expected


def html(rng: random.Random) -> tuple[str, list[str]]:
    lines = [
        "# Awesome HTML",
        "",
        '<p align="center"><a href="https://awesome.re"><img src="https://awesome.re/badge.svg"></a></p>',
        "",
    ]
    expected: list[str] = []
    n = 0
    for index, section in enumerate(SECTIONS):
        lines += [f"## {section}", ""]
        if index % 4 == 0:  # an HTML list block
            lines.append("<ul>")
            for _ in range(12):
                n += 1
                name, repo, lang = project(rng, n)
                lines.append(
                    f'  <li><a href="https://github.com/{repo}">{name}</a> - {lang} '
                    f"{rng.choice(WORDS)} layer.</li>"
                )
                expected.append(repo)
            lines += ["</ul>", ""]
        elif index % 4 == 1:  # an HTML table block
            lines += ["<table>", "  <tr><th>Name</th><th>About</th></tr>"]
            for _ in range(12):
                n += 1
                name, repo, lang = project(rng, n)
                lines += [
                    "  <tr>",
                    f'    <td><a href="https://github.com/{repo}"><b>{name}</b></a></td>',
                    f"    <td>{lang}: a {rng.choice(WORDS)} &amp; {rng.choice(WORDS)} tool</td>",
                    "  </tr>",
                ]
                expected.append(repo)
            lines += ["</table>", ""]
        elif index % 4 == 2:  # Markdown bullets with inline <a href>
            for _ in range(12):
                n += 1
                name, repo, lang = project(rng, n)
                lines.append(
                    f'- <a href="https://github.com/{repo}" target="_blank">{name}</a> - '
                    f"{lang} {rng.choice(WORDS)}."
                )
                expected.append(repo)
            lines.append("")
        else:  # lines in a <p> block, separated by <br>
            lines.append("<p>")
            for _ in range(12):
                n += 1
                name, repo, lang = project(rng, n)
                lines.append(f'<a href="https://github.com/{repo}">{name}</a> — {lang}.<br>')
                expected.append(repo)
            lines += ["</p>", ""]
    return "\n".join(lines) + "\n", expected


def main() -> None:
    rng = random.Random(15)
    for name, build in (
        ("awesome-homepage-source", homepage_first),
        ("awesome-tables", tables),
        ("awesome-html-links", html),
    ):
        text, expected = build(rng)
        (OUT / f"{name}.md").write_text(text, encoding="utf-8")
        (OUT / f"{name}.expected").write_text("\n".join(expected) + "\n", encoding="utf-8")
        print(name, len(expected))


if __name__ == "__main__":
    main()
