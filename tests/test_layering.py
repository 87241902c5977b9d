"""The packages read top to bottom: the language layer below the triage, the triage below the
conversation and Rasa, the store and the staff app sharing only the level names; no module
imports another module's private names."""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterator, Tuple

import pytest

from bot.settings import PROJECT_ROOT

BOT = PROJECT_ROOT / "bot"
# package -> what it must not import (bot.<package> prefixes, or outside packages)
FORBIDDEN = {
    "nlp": ("bot.triage", "bot.dialogue", "bot.rasa_server", "bot.channels", "bot.store", "bot.staff", "rasa", "rasa_sdk"),
    "triage": ("bot.dialogue", "bot.rasa_server", "bot.channels", "bot.store", "bot.staff", "rasa", "rasa_sdk"),
    "dialogue": ("bot.rasa_server", "bot.channels", "bot.store", "bot.staff", "rasa", "rasa_sdk"),
    "store": ("bot.nlp", "bot.dialogue", "bot.rasa_server", "bot.staff", "bot.triage.rulebook", "bot.triage.engine",
              "bot.triage.service"),
    "staff": ("bot.nlp", "bot.dialogue", "bot.rasa_server", "bot.triage.rulebook", "bot.triage.engine",
              "bot.triage.service"),
}


def imports(path: Path) -> Iterator[Tuple[str, Tuple[str, ...]]]:
    """(absolute module, names) for every import in the file, relative ones resolved."""
    package = ".".join(path.relative_to(PROJECT_ROOT).with_suffix("").parts[:-1])
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, ()
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            yield module, tuple(alias.name for alias in node.names)


def modules_of(package: str):
    return sorted((BOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_each_package_imports_only_what_is_below_it(package):
    wrong = [
        f"{path.relative_to(PROJECT_ROOT)} imports {module}"
        for path in modules_of(package)
        for module, _ in imports(path)
        if any(module == banned or module.startswith(banned + ".") for banned in FORBIDDEN[package])
    ]
    assert wrong == []


def test_no_private_name_is_imported_from_another_module():
    wrong = [
        f"{path.relative_to(PROJECT_ROOT)}: {module} import {name}"
        for folder in ("bot", "actions", "bench")
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py"))
        for module, names in imports(path)
        for name in names
        if name.startswith("_") and not name.startswith("__") and module.startswith(("bot", "actions", "bench"))
    ]
    assert wrong == []


def test_the_resolver_sees_relative_imports():
    # The check above is only as good as this: bot/triage/engine.py imports the findings from the language layer.
    assert ("bot.nlp.findings", ("ANSWER", "NEGATED", "Finding")) in set(imports(BOT / "triage" / "engine.py"))
