"""Reads the patient-language resources (concepts.yml, context.yml) with strict key checks."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import AbstractSet, Dict, FrozenSet, List, Optional, Tuple

from ..datafiles import check_keys, read_yaml

RESOURCES_DIR = Path(__file__).resolve().parent / "resources"
CONCEPTS_FILE = RESOURCES_DIR / "concepts.yml"
CONTEXT_FILE = RESOURCES_DIR / "context.yml"

CONTEXT_CATEGORIES = {
    "NEGATED_EXISTENCE",
    "POSSIBLE_EXISTENCE",
    "HYPOTHETICAL",
    "HISTORICAL",
    "FAMILY",
    "PSEUDO",
    "TERMINATE",
    "RECENT",  # undoes HISTORICAL: "yesterday", "this morning"
}
# Besides these, a PSEUDO rule with `terminates` may name its own category: it ends the
# scope of the categories it lists (see FIRST_PERSON_CLAUSE in context.yml).
DIRECTIONS = {"FORWARD", "BACKWARD", "BIDIRECTIONAL", "PSEUDO", "TERMINATE"}

_MACRO = re.compile(r"\{([A-Z_]+)\}")
# "~wet" in a pattern stands for every form of the lemma "wet" (wet, wets, wetting, wetted), from
# spaCy's lemma lookup table (bot/nlp/wordlists.py).
_LEMMA = re.compile(r"~([a-z]+)\b")


class ResourceError(ValueError):
    """A language resource file is malformed; the message names the file and entry."""


@dataclass(frozen=True)
class ConceptRule:
    concept: str
    category: str
    pattern: str  # one regex: the concept's patterns joined as alternatives, with word boundaries


@dataclass(frozen=True)
class ModifierRule:
    category: str
    direction: str
    pattern: str
    max_scope: Optional[int]
    allowed_concepts: Optional[FrozenSet[str]]
    only_in_questions: bool
    only_in_conditional_questions: bool = False
    terminates: Tuple[str, ...] = ()


def _read(path: Path) -> dict:
    data = read_yaml(path, error=ResourceError)
    if not isinstance(data, dict):
        raise ResourceError(f"{path}: expected a mapping at the top level")
    return data


def _check(data: object, allowed: set, where: str, required: AbstractSet[str] = frozenset()) -> dict:
    return check_keys(data, allowed, where, required, error=ResourceError)


def _compile_alternatives(patterns: object, macros: Dict[str, str], where: str) -> str:
    if not isinstance(patterns, list) or not patterns or not all(isinstance(p, str) and p for p in patterns):
        raise ResourceError(f"{where}: patterns must be a non-empty list of regular expressions")

    def expand(match: re.Match) -> str:
        name = match.group(1)
        if name not in macros:
            raise ResourceError(f"{where}: unknown macro {{{name}}}")
        return macros[name]

    for pattern in patterns:
        if pattern != pattern.rstrip():
            # A match must end at a word's end: a pattern ending in a space never matches before a word.
            raise ResourceError(f"{where}: pattern {pattern!r} ends with a space, so it can never match before a word")
    expanded = [expand_lemmas(_MACRO.sub(expand, pattern)) for pattern in patterns]
    # Whole words only: "weak" must not match inside "tweak".
    joined = r"(?<!\w)(?:" + "|".join(f"(?:{p})" for p in expanded) + r")(?!\w)"
    try:
        re.compile(joined, re.IGNORECASE)
    except re.error as error:
        raise ResourceError(f"{where}: invalid regular expression: {error}") from error
    return joined


def expand_lemmas(pattern: str) -> str:
    """``pattern`` with each ``~lemma`` replaced by the alternation of the lemma's forms."""
    if "~" not in pattern:
        return pattern  # the lemma table is read only when a pattern uses it
    from .wordlists import forms_of

    def forms(match: re.Match) -> str:
        return "(?:" + "|".join(sorted(forms_of(match.group(1)), key=lambda w: (-len(w), w))) + ")"

    return _LEMMA.sub(forms, pattern)


def load_concept_rules(path: Path = CONCEPTS_FILE) -> Tuple[ConceptRule, ...]:
    data = _check(_read(path), {"version", "macros", "concepts"}, str(path), {"concepts"})
    macros = data.get("macros") or {}
    if not isinstance(macros, dict):
        raise ResourceError(f"{path}: macros must be a mapping")
    for name in list(macros):
        macros[name] = _MACRO.sub(lambda m: macros.get(m.group(1), m.group(0)), macros[name])
    rules = []
    for concept, raw in (data["concepts"] or {}).items():
        where = f"{path.name}: concept {concept!r}"
        raw = _check(raw, {"category", "patterns"}, where, {"category", "patterns"})
        rules.append(ConceptRule(concept, str(raw["category"]), _compile_alternatives(raw["patterns"], macros, where)))
    if not rules:
        raise ResourceError(f"{path}: no concepts")
    return tuple(rules)


def load_modifier_rules(path: Path = CONTEXT_FILE, concepts: Tuple[ConceptRule, ...] = ()) -> Tuple[ModifierRule, ...]:
    data = _check(_read(path), {"version", "modifiers"}, str(path), {"modifiers"})
    by_category: Dict[str, List[str]] = {}
    for rule in concepts:
        by_category.setdefault(rule.category, []).append(rule.concept)
    known = {rule.concept for rule in concepts}
    rules = []
    allowed_keys = {
        "category",
        "direction",
        "patterns",
        "max_scope",
        "applies_to",
        "only_concepts",
        "only_in_questions",
        "only_in_conditional_questions",
        "terminates",
    }
    for index, raw in enumerate(data["modifiers"] or []):
        where = f"{path.name}: modifier #{index + 1}"
        raw = _check(raw, allowed_keys, where, {"category", "direction", "patterns"})
        terminates = tuple(raw.get("terminates") or ())
        if terminates:
            if raw["direction"] != "PSEUDO" or not str(raw["category"]).isupper():
                raise ResourceError(f"{where}: a rule with 'terminates' needs direction PSEUDO and an upper-case category")
            unknown = sorted(set(terminates) - CONTEXT_CATEGORIES)
            if unknown:
                raise ResourceError(f"{where}: terminates names unknown categories {unknown}")
        elif raw["category"] not in CONTEXT_CATEGORIES:
            raise ResourceError(f"{where}: category {raw['category']!r} not in {sorted(CONTEXT_CATEGORIES)}")
        if raw["direction"] not in DIRECTIONS:
            raise ResourceError(f"{where}: direction {raw['direction']!r} not in {sorted(DIRECTIONS)}")
        allowed: Optional[set] = None
        if "applies_to" in raw or "only_concepts" in raw:
            allowed = set(raw.get("only_concepts") or [])
            for category in raw.get("applies_to") or []:
                if category not in by_category:
                    raise ResourceError(f"{where}: applies_to names unknown category {category!r}")
                allowed |= set(by_category[category])
            unknown = sorted(allowed - known) if known else []
            if unknown:
                raise ResourceError(f"{where}: only_concepts names unknown concept(s) {unknown}")
        max_scope = raw.get("max_scope")
        if max_scope is not None and (not isinstance(max_scope, int) or max_scope < 1):
            raise ResourceError(f"{where}: max_scope must be a positive whole number")
        rules.append(
            ModifierRule(
                category=raw["category"],
                direction=raw["direction"],
                pattern=_compile_alternatives(raw["patterns"], {}, where),
                max_scope=max_scope,
                allowed_concepts=frozenset(allowed) if allowed is not None else None,
                only_in_questions=bool(raw.get("only_in_questions", False)),
                only_in_conditional_questions=bool(raw.get("only_in_conditional_questions", False)),
                terminates=terminates,
            )
        )
    return tuple(rules)


SIGN_DESCRIPTIONS_FILE = RESOURCES_DIR / "sign_descriptions.yml"


@dataclass(frozen=True)
class SignDescriptions:
    """One emergency sign as patients put it: the second detector compares clauses with these."""

    concept: str
    question: str  # asked back, in plain words, when only one detector found the sign ("" for findings)
    descriptions: Tuple[str, ...]
    document: str
    quote: str
    # Concepts that, found by the patterns in the message, rule the sign out: embeddings put
    # antonyms close together ("it started gradually" is near "it came on suddenly").
    unless: Tuple[str, ...] = ()


@dataclass(frozen=True)
class SignBank:
    signs: Tuple[SignDescriptions, ...]
    benign: Tuple[str, ...]  # everyday clauses that must not be read as a sign
    findings: Tuple[SignDescriptions, ...]  # other concepts (the benign pattern), found the same way
    found: float  # the cosine a clause must reach
    benign_margin: float  # ... and by how much it must beat the closest benign clause

    def sign(self, concept: str) -> SignDescriptions:
        return next(s for s in self.signs if s.concept == concept)

    @property
    def entries(self) -> Tuple[SignDescriptions, ...]:
        """The signs, then the other findings: everything a clause is compared with."""
        return self.signs + self.findings


def _texts(value: object, where: str) -> Tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(t, str) and t.strip() for t in value):
        raise ResourceError(f"{where}: expected a non-empty list of texts")
    return tuple(t.strip() for t in value)


def load_sign_bank(path: Path = SIGN_DESCRIPTIONS_FILE, concepts: Tuple[ConceptRule, ...] = ()) -> SignBank:
    """The sign descriptions; with ``concepts``, every sign must be one of their red-flag concepts."""
    data = _check(_read(path), {"version", "thresholds", "signs", "benign", "findings"}, str(path),
                  {"thresholds", "signs", "benign"})
    thresholds = _check(data["thresholds"], {"found", "benign_margin"}, f"{path.name}: thresholds", {"found", "benign_margin"})
    for key, value in thresholds.items():
        if not isinstance(value, (int, float)) or not -1 <= value <= 1:
            raise ResourceError(f"{path.name}: thresholds.{key} must be a number between -1 and 1")
    red_flags = {rule.concept for rule in concepts if rule.category == "red_flag"}
    known = {rule.concept for rule in concepts}
    signs = []
    for concept, raw in (data["signs"] or {}).items():
        where = f"{path.name}: sign {concept!r}"
        if concepts and concept not in red_flags:
            raise ResourceError(f"{where}: not a red-flag concept of {CONCEPTS_FILE.name}")
        raw = _check(raw, {"source", "question", "descriptions", "unless"}, where, {"source", "question", "descriptions"})
        unless = tuple(raw.get("unless") or ())
        if concepts and set(unless) - known:
            raise ResourceError(f"{where}: unless names unknown concept(s) {sorted(set(unless) - known)}")
        source = _check(raw["source"], {"document", "quote"}, f"{where}: source", {"document", "quote"})
        if not isinstance(raw["question"], str) or not raw["question"].strip().endswith("?"):
            raise ResourceError(f"{where}: question must be a question in plain words")
        signs.append(SignDescriptions(concept, raw["question"].strip(), _texts(raw["descriptions"], where),
                                      str(source["document"]), str(source["quote"]), unless))
    if not signs:
        raise ResourceError(f"{path}: no signs")
    findings = []
    for concept, raw in (data.get("findings") or {}).items():
        where = f"{path.name}: finding {concept!r}"
        if concepts and (concept not in known or concept in red_flags):
            raise ResourceError(f"{where}: not a concept of {CONCEPTS_FILE.name} other than a red flag")
        raw = _check(raw, {"source", "descriptions"}, where, {"source", "descriptions"})
        source = _check(raw["source"], {"document", "quote"}, f"{where}: source", {"document", "quote"})
        findings.append(SignDescriptions(concept, "", _texts(raw["descriptions"], where),
                                         str(source["document"]), str(source["quote"])))
    return SignBank(tuple(signs), _texts(data["benign"], f"{path.name}: benign"), tuple(findings),
                    float(thresholds["found"]), float(thresholds["benign_margin"]))
