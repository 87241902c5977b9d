"""Loads the triage rulebook (YAML) and rejects anything it does not understand.

The rulebook is clinical knowledge kept as data: each rule has an id, a level, the
conditions over findings under which it fires, a plain-language explanation and the
sources (seed document and verbatim quote) it rests on.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, FrozenSet, Iterable, List, Mapping, Optional, Set, Tuple

from ..datafiles import check_keys, read_yaml
from .levels import RULE_LEVELS

DEFAULT_RULES_DIR = Path(__file__).resolve().parent / "rules"
SETTINGS_FILE = "rulebook.yml"


_SETTINGS_KEYS = {"version", "documents_dir", "documents", "brief_minutes", "groups", "questions"}
_FILE_KEYS = {"level", "rules"}
_RULE_KEYS = {"id", "when", "explanation", "sources", "note"}
_REQUIRED_RULE_KEYS = {"id", "when", "explanation", "sources"}
_CONDITION_KEYS = {"any", "all", "none", "duration_over_minutes", "duration_at_most_minutes"}
_SOURCE_KEYS = {"document", "quote"}
_QUESTION_KEYS = {"id", "concepts", "group_concepts"}


class RulebookError(ValueError):
    """The rulebook is malformed; the message names the file and the rule."""


@dataclass(frozen=True)
class Source:
    document: str
    quote: str


@dataclass(frozen=True)
class Condition:
    """When a rule fires. Every part that is set must hold."""

    any_of: FrozenSet[str] = frozenset()
    all_of: Tuple[FrozenSet[str], ...] = ()  # each entry: at least one of these concepts
    none_of: FrozenSet[str] = frozenset()
    duration_over_minutes: Optional[float] = None
    duration_at_most_minutes: Optional[float] = None

    def concepts(self) -> FrozenSet[str]:
        names = set(self.any_of) | set(self.none_of)
        for alternatives in self.all_of:
            names |= alternatives
        return frozenset(names)


@dataclass(frozen=True)
class Rule:
    id: str
    level: str
    condition: Condition
    explanation: str
    sources: Tuple[Source, ...]
    note: str = ""


@dataclass(frozen=True)
class Question:
    id: str
    concepts: FrozenSet[str]


@dataclass(frozen=True)
class Rulebook:
    version: str
    rules: Tuple[Rule, ...]
    questions: Tuple[Question, ...]
    documents_dir: Path
    brief_minutes: float
    groups: Mapping[str, FrozenSet[str]] = field(default_factory=dict)
    documents: Mapping[str, str] = field(default_factory=dict)  # file name -> title

    def title(self, document: str) -> str:
        return self.documents.get(document, document)

    def rules_for(self, level: str) -> Tuple[Rule, ...]:
        return tuple(rule for rule in self.rules if rule.level == level)

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def concepts(self) -> FrozenSet[str]:
        """Every concept name the rules and questions refer to."""
        names: Set[str] = set()
        for rule in self.rules:
            names |= rule.condition.concepts()
        for question in self.questions:
            names |= question.concepts
        return frozenset(names)


def _check_keys(data: object, allowed: set, where: str, required: Iterable[str] = ()) -> dict:
    return check_keys(data, allowed, where, required, error=RulebookError)


def _names(value: object, where: str) -> List[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise RulebookError(f"{where}: expected a non-empty list of concept names, got {value!r}")
    return value


class RulebookReader:
    """Reads the rulebook's settings; its condition and source parsers serve the knowledge files too."""

    def __init__(self, rules_dir: Path):
        self.rules_dir = rules_dir
        settings_path = rules_dir / SETTINGS_FILE
        if not settings_path.is_file():
            raise RulebookError(f"{settings_path}: rulebook settings file not found")
        self.settings = _check_keys(
            self.read(settings_path), _SETTINGS_KEYS, str(settings_path), required={"version", "brief_minutes"}
        )
        self.groups = self._load_groups(self.settings.get("groups") or {}, str(settings_path))
        self.documents = dict(self.settings.get("documents") or {})

    @staticmethod
    def read(path: Path) -> object:
        return read_yaml(path, error=RulebookError)

    @staticmethod
    def _load_groups(raw: object, where: str) -> Dict[str, FrozenSet[str]]:
        if not isinstance(raw, dict):
            raise RulebookError(f"{where}: groups must be a mapping of name to concept list")
        return {name: frozenset(_names(members, f"{where}: group {name!r}")) for name, members in raw.items()}

    def _expand(self, names: List[str]) -> FrozenSet[str]:
        expanded: Set[str] = set()
        for name in names:
            expanded |= self.groups.get(name, {name})
        return frozenset(expanded)

    def minutes(self, value: object, where: str) -> float:
        if isinstance(value, str):
            if value not in self.settings:
                raise RulebookError(f"{where}: {value!r} is not a rulebook setting")
            value = self.settings[value]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise RulebookError(f"{where}: expected a number of minutes >= 0, got {value!r}")
        return float(value)

    def condition(self, raw: object, where: str) -> Condition:
        data = _check_keys(raw, _CONDITION_KEYS, f"{where}: when")
        if not data:
            raise RulebookError(f"{where}: when: at least one condition is required")
        all_of = data.get("all")
        if all_of is not None:
            all_of = tuple(self._expand([name]) for name in _names(all_of, f"{where}: when.all"))
        condition = Condition(
            any_of=self._expand(_names(data["any"], f"{where}: when.any")) if "any" in data else frozenset(),
            all_of=all_of or (),
            none_of=self._expand(_names(data["none"], f"{where}: when.none")) if "none" in data else frozenset(),
            duration_over_minutes=(
                self.minutes(data["duration_over_minutes"], f"{where}: when.duration_over_minutes")
                if "duration_over_minutes" in data
                else None
            ),
            duration_at_most_minutes=(
                self.minutes(data["duration_at_most_minutes"], f"{where}: when.duration_at_most_minutes")
                if "duration_at_most_minutes" in data
                else None
            ),
        )
        if not (condition.any_of or condition.all_of or condition.duration_over_minutes is not None):
            raise RulebookError(f"{where}: when: needs 'any', 'all' or 'duration_over_minutes' to fire on")
        return condition

    def sources(self, raw: object, where: str) -> Tuple[Source, ...]:
        if not isinstance(raw, list) or not raw:
            raise RulebookError(f"{where}: sources must be a non-empty list")
        sources = []
        for index, item in enumerate(raw):
            data = _check_keys(item, _SOURCE_KEYS, f"{where}: sources[{index}]", required=_SOURCE_KEYS)
            if not all(isinstance(data[key], str) and data[key].strip() for key in _SOURCE_KEYS):
                raise RulebookError(f"{where}: sources[{index}]: document and quote must be non-empty text")
            if self.documents and data["document"] not in self.documents:
                raise RulebookError(f"{where}: sources[{index}]: unknown document {data['document']!r}")
            sources.append(Source(document=data["document"], quote=data["quote"]))
        return tuple(sources)

    def rules(self, path: Path) -> List[Rule]:
        data = _check_keys(self.read(path), _FILE_KEYS, str(path), required=_FILE_KEYS)
        level = data["level"]
        if level not in RULE_LEVELS:
            raise RulebookError(f"{path}: level {level!r} is not one of {list(RULE_LEVELS)}")
        if not isinstance(data["rules"], list):
            raise RulebookError(f"{path}: rules must be a list")
        rules = []
        for index, raw in enumerate(data["rules"]):
            rule_id = raw.get("id") if isinstance(raw, dict) else None
            where = f"{path.name}: rule {rule_id!r}" if rule_id else f"{path.name}: rule #{index + 1}"
            raw = _check_keys(raw, _RULE_KEYS, where, required=_REQUIRED_RULE_KEYS)
            if not isinstance(rule_id, str) or not rule_id.startswith(f"{level}."):
                raise RulebookError(f"{where}: id must be text starting with '{level}.'")
            if not isinstance(raw["explanation"], str) or not raw["explanation"].strip():
                raise RulebookError(f"{where}: explanation must be non-empty text")
            rules.append(
                Rule(
                    id=rule_id,
                    level=level,
                    condition=self.condition(raw["when"], where),
                    explanation=raw["explanation"].strip(),
                    sources=self.sources(raw["sources"], where),
                    note=str(raw.get("note", "")),
                )
            )
        return rules

    def questions(self) -> Tuple[Question, ...]:
        questions = []
        for index, raw in enumerate(self.settings.get("questions") or []):
            where = f"{SETTINGS_FILE}: question #{index + 1}"
            data = _check_keys(raw, _QUESTION_KEYS, where, required={"id", "concepts"})
            concepts = set(_names(data["concepts"], f"{where}: concepts"))
            for group in data.get("group_concepts") or []:
                if group not in self.groups:
                    raise RulebookError(f"{where}: unknown group {group!r}")
                concepts |= self.groups[group]
            questions.append(Question(id=str(data["id"]), concepts=frozenset(concepts)))
        return tuple(questions)

    def documents_dir(self) -> Path:
        override = os.environ.get("TRIAGE_SEEDS_DIR")
        if override:
            return Path(override)
        return (self.rules_dir / str(self.settings.get("documents_dir", "seeds"))).resolve()


def load_rulebook(rules_dir: Optional[Path] = None) -> Rulebook:
    """Reads every rule file in ``rules_dir`` (default: the rules shipped with the package)."""
    rules_dir = Path(rules_dir or DEFAULT_RULES_DIR)
    loader = RulebookReader(rules_dir)
    rules: List[Rule] = []
    for path in sorted(rules_dir.glob("*.yml")):
        if path.name != SETTINGS_FILE:
            rules.extend(loader.rules(path))
    seen = set()
    for rule in rules:
        if rule.id in seen:
            raise RulebookError(f"rule {rule.id!r} is defined twice")
        seen.add(rule.id)
    if not rules:
        raise RulebookError(f"{rules_dir}: no rules found")
    # Most urgent level first, so the engine can stop at the first level that fires.
    rules.sort(key=lambda rule: RULE_LEVELS.index(rule.level))
    return Rulebook(
        version=str(loader.settings["version"]),
        rules=tuple(rules),
        questions=loader.questions(),
        documents_dir=loader.documents_dir(),
        brief_minutes=loader.minutes(loader.settings["brief_minutes"], SETTINGS_FILE),
        groups=loader.groups,
        documents=loader.documents,
    )
