# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The variables table of a role's README, generated from its meta/argument_specs.yml.

    python tests/role_docs.py            # rewrite the generated tables (make role-docs)
    python tests/role_docs.py --check    # exit 1 naming each README that is not up to date

A README carries the table between the two marker lines below, where its role
chose to have one; tests/unit/test_role_specs.py fails when a table is stale
and when a role's README does not name one of its variables at all.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BEGIN = "<!-- variables: generated from meta/argument_specs.yml by `make role-docs`; do not edit by hand -->"
END = "<!-- end of the generated variables -->"
_MARKUP = [
    (re.compile(r"[CVO]\(([^()]*)\)"), r"`\1`"),
    (re.compile(r"I\(([^()]*)\)"), r"*\1*"),
    (re.compile(r"B\(([^()]*)\)"), r"**\1**"),
    (re.compile(r"U\(([^()]*)\)"), r"\1"),
    (re.compile(r"L\(([^,()]*),\s*([^()]*)\)"), r"[\1](\2)"),
]


def options(role: Path) -> dict[str, dict]:
    """Every option of every entry point, the main one first (a name in two entry points is listed once)."""
    specs = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))["argument_specs"]
    found: dict[str, dict] = {}
    for entry in ["main"] + sorted(name for name in specs if name != "main"):
        for name, option in ((specs.get(entry) or {}).get("options") or {}).items():
            found.setdefault(name, option)
    return found


def _text(description) -> str:
    text = " ".join(description if isinstance(description, list) else [str(description or "")])
    for pattern, replacement in _MARKUP:
        text = pattern.sub(replacement, text)
    return " ".join(text.split()).replace("|", "\\|")


def _default(option: dict) -> str:
    if "default" not in option:
        return "required" if option.get("required") else "none"
    value = option["default"]
    if value == "":
        return '`""`'
    if isinstance(value, str):
        shown = value
    else:
        shown = yaml.safe_dump(value, default_flow_style=True, width=10000).strip()
        shown = shown[:-4].strip() if shown.endswith("\n...") else shown
    return "`%s`" % shown.replace("|", "\\|")


def table(role: Path) -> str:
    rows = [BEGIN, "| Variable | Type | Default | Description |", "|---|---|---|---|"]
    for name, option in sorted(options(role).items()):
        kind = option.get("type", "str")
        if kind == "list" and option.get("elements"):
            kind = "list of %s" % option["elements"]
        choices = " One of: %s." % ", ".join("`%s`" % choice for choice in option["choices"]) if option.get("choices") else ""
        rows.append("| `%s` | %s | %s | %s%s |" % (name, kind, _default(option), _text(option.get("description")), choices))
    rows.append(END)
    return "\n".join(rows)


def rendered(role: Path) -> tuple[str, str] | None:
    """(the README as it is, as it should be), or None when the README has no generated table."""
    readme = (role / "README.md").read_text(encoding="utf-8")
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < start:
        return None
    return readme, readme[:start] + table(role) + readme[end + len(END):]


def main(argv: list[str]) -> int:
    stale = []
    for role in sorted(p for p in (ROOT / "roles").iterdir() if (p / "meta" / "argument_specs.yml").exists()):
        pair = rendered(role)
        if pair is None or pair[0] == pair[1]:
            continue
        if "--check" in argv:
            stale.append(role.name)
        else:
            (role / "README.md").write_text(pair[1], encoding="utf-8")
            print("rewrote roles/%s/README.md" % role.name)
    for name in stale:
        print("roles/%s/README.md: the variables table is not up to date; run make role-docs" % name, file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
