"""The clinical language layer: free text in, findings with an assertion status out.

A blank English spaCy pipeline (no model download) with medspaCy's TargetMatcher for
concepts and ConText for negation, hypotheticals, history and family, both driven by
the patient-language rules in ``resources/``. A second red-flag detector (semantic.py) reads
each clause by its meaning; ConText decides the status of what it finds too.
"""
from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import replace
from typing import TYPE_CHECKING, Callable, Dict, List, Optional, Tuple

from .findings import (
    EMBEDDING,
    FAMILY,
    HISTORICAL,
    HYPOTHETICAL,
    NEGATED,
    PATTERNS,
    PRESENT,
    UNCERTAIN,
    Finding,
)
from ..lazy import Lazy
from .clauses import clause_spans
from .duration import measures_trigger, minutes_of
from .experiencer import OTHER, WRITER, person_of
from .resources import ConceptRule, ModifierRule, load_concept_rules, load_modifier_rules
from .spelling import Corrected, SpellingCorrector, words_of_patterns

if TYPE_CHECKING:  # loaded with the model, on first use
    from spacy.tokens import Span

    from .semantic import SignMatch

# When several modifiers touch one finding, the strongest reading wins.
_STATUS_BY_MODIFIER = [
    ("NEGATED_EXISTENCE", NEGATED),
    ("HYPOTHETICAL", HYPOTHETICAL),
    ("FAMILY", FAMILY),
    ("HISTORICAL", HISTORICAL),
    ("POSSIBLE_EXISTENCE", UNCERTAIN),
]

_SPACES = re.compile(r"\s+")
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u201c": '"', "\u201d": '"'})
_PLURAL_PLACES = re.compile(r"^(?:feet|calves|thighs|knees|ankles|shins)$", re.IGNORECASE)
# A message is read in full up to about DETAIL_CHARS (cut between sentences). Past that, only
# the sentences that hold a red-flag phrase are read, each distinct sentence once, until one
# shows a red flag: a 100 KB paste stays fast, and an emergency sign at its end is still found.
# (Every emergency rule rests on red-flag concepts; tests/nlp checks that this stays so.)
DETAIL_CHARS = 2000
MAX_CHARS = 5000  # the most text the language pipeline is given at once
CONTEXT_CHARS = 150  # read around a red-flag phrase past DETAIL_CHARS: more than ConText's scope
_SENTENCE_END = re.compile(r"(?<=[.!?;\n])\s")
RED_FLAG = "red_flag"
NEGATION = "NEGATED_EXISTENCE"
_CLAUSE_TARGETS = "sign_clause_targets"  # the Doc attribute ConText reads the second detector's targets from


def normalise(text: str) -> str:
    """Straight quotes, no control or zero-width characters, single spaces."""
    text = unicodedata.normalize("NFKC", text or "").translate(_QUOTES)
    text = "".join(ch if unicodedata.category(ch)[0] != "C" or ch in "\n\t" else " " for ch in text)
    return _SPACES.sub(" ", text).strip()


def pieces(text: str, size: int = MAX_CHARS) -> List[str]:
    """The text cut into pieces of at most ``size`` characters, between sentences where it can."""
    out = []
    while len(text) > size:
        ends = [m.end() for m in _SENTENCE_END.finditer(text, 0, size + 1)]
        cut = ends[-1] if ends else (text.rfind(" ", 0, size) + 1 or size)
        out.append(text[:cut].strip())
        text = text[cut:]
    return [p for p in out + [text.strip()] if p]


_IF = re.compile(r"\bif\b", re.IGNORECASE)


def _question_only(target, modifier, span_between) -> bool:
    return target.sent.text.rstrip().endswith("?")


def _conditional_question_only(target, modifier, span_between) -> bool:
    sentence = target.sent.text
    return sentence.rstrip().endswith("?") and bool(_IF.search(sentence))


def _on_modifies(rule: ModifierRule):
    if rule.only_in_conditional_questions:
        return _conditional_question_only
    if rule.only_in_questions:
        return _question_only
    return None


# What tells whose legs are numb: a symptom, a place or a side ("my foot"), or a pattern told with
# the numbness itself ("keeps going numb"; not "I pop in every day").
_PATIENT_CATEGORIES = frozenset({"symptom", "location", "side"})
_NUMB_WORDS = re.compile(r"numb|tingl|pins and needles|dead|asleep|fizz")


class ClinicalPipeline:
    """Builds the medspaCy pipeline once; ``findings(text)`` is then cheap and thread-safe."""

    def __init__(
        self,
        concept_rules: Optional[Tuple[ConceptRule, ...]] = None,
        modifier_rules: Optional[Tuple[ModifierRule, ...]] = None,
        signs="shared",
        spelling: bool = True,
    ):
        """``signs``: the second detector (a SignDetector), None for the patterns alone, or by
        default one built here with the process's shared sentence encoder. ``spelling``: correct
        misspellings before both detectors read the message (spelling.py)."""
        self.concept_rules = concept_rules or load_concept_rules()
        self.modifier_rules = modifier_rules or load_modifier_rules(concepts=self.concept_rules)
        self.categories: Dict[str, str] = {rule.concept: rule.category for rule in self.concept_rules}
        if signs == "shared":
            from .resources import load_sign_bank
            from .semantic import SignDetector

            signs = SignDetector(load_sign_bank(concepts=self.concept_rules))
        self.signs = signs
        self.speller: Optional[SpellingCorrector] = None
        if spelling:
            # Never "corrected": the words the patterns spell, and the patients' words of the sign
            # bank ("my head feels spinny" is dizziness, not "skinny").
            from .resources import load_sign_bank

            bank = signs.bank if signs is not None else load_sign_bank(concepts=self.concept_rules)
            written = [rule.pattern for rule in self.concept_rules] + [rule.pattern for rule in self.modifier_rules]
            lay = [text for entry in bank.entries for text in entry.descriptions] + list(bank.benign)
            self.speller = SpellingCorrector(keep=words_of_patterns(written), lay=words_of_patterns(lay))
        self._description_denials: Dict[str, int] = {}
        self._nlp = self._build()
        self._red_flag_phrase = re.compile(
            "|".join(f"(?:{rule.pattern})" for rule in self.concept_rules if rule.category == "red_flag"), re.IGNORECASE
        )
        self._lock = threading.Lock()  # spaCy Doc extensions are shared state

    @property
    def concepts(self) -> frozenset:
        return frozenset(self.categories)

    def _build(self):
        import medspacy  # noqa: F401  (registers the medspaCy factories)
        import spacy
        from spacy.tokens import Doc

        if not Doc.has_extension(_CLAUSE_TARGETS):
            Doc.set_extension(_CLAUSE_TARGETS, default=())
        from medspacy.context import ConTextRule
        from medspacy.target_matcher import TargetRule

        nlp = spacy.blank("en")
        sentencizer = nlp.add_pipe("sentencizer")
        sentencizer.punct_chars = set(sentencizer.punct_chars) | {"\n"}
        matcher = nlp.add_pipe("medspacy_target_matcher")
        matcher.add([TargetRule(rule.concept, rule.concept, pattern=rule.pattern) for rule in self.concept_rules])
        context = nlp.add_pipe(
            "medspacy_context",
            config={
                "rules": None,
                "span_attrs": None,
                # A modifier word inside a finding ("not" in "not able to walk") must not
                # go on to modify the findings around it.
                "prune_on_target_overlap": True,
                "terminating_types": self._terminating_types(),
            },
        )
        # spaCy hands the config's lists over as one-shot iterators, so only the first rule of each
        # category got its terminations: give ConText real lists before the rules are added.
        context.terminating_types = {k.upper(): list(v) for k, v in self._terminating_types().items()}
        context.add(
            [
                ConTextRule(
                    literal=f"{rule.category.lower()}-{index}",
                    category=rule.category,
                    pattern=rule.pattern,
                    direction=rule.direction,
                    max_scope=rule.max_scope,
                    allowed_types=set(rule.allowed_concepts) if rule.allowed_concepts is not None else None,
                    on_modifies=_on_modifies(rule),
                )
                for index, rule in enumerate(self.modifier_rules)
            ]
        )
        return nlp

    def _terminating_types(self) -> Dict[str, List[str]]:
        """Which categories each clause-ending rule ends, as ConText's terminating_types wants it."""
        ended_by: Dict[str, List[str]] = {}
        for rule in self.modifier_rules:
            for category in rule.terminates:
                ended_by.setdefault(category, []).append(rule.category)
        return ended_by

    def findings(self, text: str) -> List[Finding]:
        text = normalise(text)
        if not text:
            return []
        head, *rest = pieces(text, DETAIL_CHARS)
        results = self._findings_of_piece(head[:MAX_CHARS])
        if rest:
            results.extend(self._red_flags_in(" ".join(rest)))
        return results

    def _red_flags_in(self, text: str) -> List[Finding]:
        """Red flags in the rest of a long message: each red-flag phrase read with the words
        around it (for "no", "if", "my father"...), each distinct passage once."""
        seen = set()
        # The phrases are looked for as written: spelling correction of a whole long paste would
        # cost seconds (each unknown word is looked up), so only the passages read are corrected.
        for sentence in _SENTENCE_END.split(text):
            for match in self._red_flag_phrase.finditer(sentence):
                start = sentence.rfind(" ", 0, max(0, match.start() - CONTEXT_CHARS)) + 1
                end = sentence.find(" ", match.end() + CONTEXT_CHARS)
                passage = sentence[start : end if end > 0 else len(sentence)].strip()
                if passage in seen:
                    continue
                seen.add(passage)
                flags = [f for f in self._findings_of_piece(passage[:MAX_CHARS]) if f.category == "red_flag"]
                if any(f.is_present for f in flags):
                    return flags
        return []

    def _findings_of_piece(self, original: str) -> List[Finding]:
        corrected = self.speller.correct(original) if self.speller is not None else Corrected(original, original)
        text = corrected.text
        with self._lock:
            doc = self._nlp(text)
            results, red_flags = [], []
            for ent in doc.ents:
                concept = ent.label_
                minutes = None
                if concept == "duration":
                    if measures_trigger(text[: ent.start_char], text[ent.end_char :]):
                        continue
                    minutes = minutes_of(ent.text)
                    if minutes is None:
                        continue
                status = self._status(ent)
                words = corrected.original(ent.start_char, ent.end_char)  # the person's own words
                finding = Finding(concept, words, status, self.categories.get(concept, ""), minutes)
                if finding.category == RED_FLAG:
                    red_flags.append((finding, ent))
                else:
                    results.append(finding)
                if _PLURAL_PLACES.match(ent.text):  # "my feet": a place on both legs
                    results.append(Finding("both_legs", words, status, self.categories.get("both_legs", "")))
            someone_else = self._someone_elses(doc)
            red_flags = [(replace(finding, status=FAMILY) if finding.is_present and someone_else(ent.start, ent.end)
                          else finding, ent) for finding, ent in red_flags]
            if self.signs is None:
                return results + [finding for finding, _ in red_flags]
            return results + self._second_opinion(doc, red_flags, corrected, someone_else)

    def _second_opinion(self, doc, red_flags: List[Tuple[Finding, Span]], corrected: Corrected,
                        someone_else: Callable[[int, int], bool]) -> List[Finding]:
        """The embedding detector on each clause. Where a clause holds a red flag the patterns
        found, it only adds its name to the finding's ``detected_by``; elsewhere what it finds is
        a new finding whose status ConText decides on the clause, suspected until the person
        confirms it (the assistant asks). A sign the patterns alone found stays a sign at once:
        they are exact phrases, and asking first would delay the emergency advice (README,
        "How the language layer reads patients")."""
        clauses = clause_spans(doc)
        matches = self.signs.matches([clause.text for clause in clauses]) if clauses else []

        def match_at(token_index: int) -> Optional[SignMatch]:
            return next((m for c, m in zip(clauses, matches) if c.start <= token_index < c.end), None)

        out = []
        for finding, ent in red_flags:
            match = match_at(ent.start)
            out.append(finding if match is None else replace(finding, detected_by=(PATTERNS, EMBEDDING), score=match.score))
        targets, found = [], {}
        # Other concepts only where the patterns found none of the same kind in the whole message.
        kinds_found = {self.categories.get(ent.label_) for ent in doc.ents}
        concepts_found = {ent.label_ for ent in doc.ents}
        for clause, match in zip(clauses, matches):
            if match is None or any(clause.start <= ent.start < clause.end for _, ent in red_flags):
                continue
            if concepts_found & set(self.signs.unless(match.concept)):
                continue
            category = self.categories.get(match.concept)
            if category != RED_FLAG and category in kinds_found:
                continue
            stand_ins = self._clause_stand_ins(doc, clause, match.concept)
            if stand_ins:
                targets.extend(stand_ins)
                found[clause.start] = (clause, match, stand_ins)
        if targets:
            doc._.set(_CLAUSE_TARGETS, tuple(targets))
            self._nlp.get_pipe("medspacy_context")(doc, targets=_CLAUSE_TARGETS)
            for clause, match, stand_ins in found.values():
                category = self.categories.get(match.concept, "")
                modifiers = {m.category for stand_in in stand_ins for m in stand_in._.modifiers}
                if NEGATION in modifiers and self._denials_in_clause(doc, clause) <= self._denials_in(match.description):
                    # The sign's own words hold the "not" ("she doesn't know where she is"): it is
                    # part of the sign, not a denial of it.
                    modifiers.discard(NEGATION)
                words = corrected.original(clause.start_char, clause.end_char).strip()
                status = self._status_of(modifiers, match.concept)
                if status == PRESENT and category == RED_FLAG and someone_else(clause.start, clause.end):
                    status = FAMILY
                out.append(Finding(match.concept, words, status,
                                   category, detected_by=(EMBEDDING,), score=match.score,
                                   suspected=category == RED_FLAG))
        return out

    def _someone_elses(self, doc) -> Callable[[int, int], bool]:
        """Whether a sign at doc[start:end] is someone else's: told of another person (experiencer.py)
        in a message whose numbness is the writer's own, and not in a sentence that tells of that
        other person's symptoms or legs (then they may be the patient: "my friend's legs went numb and
        she fell" keeps her fall)."""
        if not doc.has_annotation("SENT_START"):
            return lambda start, end: False
        people = [(person_of(doc, ent.start, ent.end), doc[ent.start].sent.start) for ent in doc.ents
                  if self.categories.get(ent.label_) in _PATIENT_CATEGORIES or _NUMB_WORDS.search(ent.text)]
        if not any(person == WRITER for person, _ in people):
            return lambda start, end: False
        others_numb = {sentence for person, sentence in people if person == OTHER}
        return lambda start, end: doc[start].sent.start not in others_numb and person_of(doc, start, end) == OTHER

    def _denials_in(self, description: str) -> int:
        """How many denial words ConText finds in a bank description (computed once per text)."""
        if description not in self._description_denials:
            doc = self._nlp(description)
            self._description_denials[description] = sum(
                m.category == NEGATION for m in doc._.context_graph.modifiers)
        return self._description_denials[description]

    @staticmethod
    def _denials_in_clause(doc, clause) -> int:
        return sum(m.category == NEGATION and clause.start <= m.modifier_span[0] < clause.end
                   for m in doc._.context_graph.modifiers)

    @staticmethod
    def _clause_stand_ins(doc, clause, concept: str) -> list:
        """One-word stand-ins for the sign, for ConText: the clause's first and last words that are
        no modifier (a modifier inside a target is dropped, and "no" must stay outside it). Two,
        so that a modifier looking back ("... is no problem") and one looking ahead ("no ...")
        both reach the clause; what modifies either modifies the sign."""
        from spacy.tokens import Span

        taken = {i for m in doc._.context_graph.modifiers for i in range(*m.modifier_span)}
        taken |= {i for ent in doc.ents for i in range(ent.start, ent.end)}
        words = [t.i for t in clause if not (t.is_punct or t.is_space or t.i in taken)]
        return [Span(doc, i, i + 1, label=concept) for i in sorted({words[0], words[-1]})] if words else []

    def _status(self, ent) -> str:
        return self._status_of({modifier.category for modifier in ent._.modifiers}, ent.label_)

    def _status_of(self, categories: set, concept: str) -> str:
        categories = set(categories)
        if "RECENT" in categories:  # "...and his face IS drooping": now, whatever came before
            categories.discard("HISTORICAL")
            if self.categories.get(concept) == "red_flag":
                categories.discard("FAMILY")
        for modifier_category, status in _STATUS_BY_MODIFIER:
            if modifier_category in categories:
                return status
        return PRESENT


_shared = Lazy(ClinicalPipeline)


def shared_pipeline() -> ClinicalPipeline:
    """One pipeline per process, built on first use (never at import time)."""
    return _shared.get()
