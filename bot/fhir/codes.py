"""Loads codes.yml (our findings, statuses, levels and detectors in standard and in our own codes)
and turns names into FHIR codings. Unknown keys in the file are an error that names the place."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Mapping, Optional

from fhir.resources.codeableconcept import CodeableConcept
from fhir.resources.coding import Coding

from ..datafiles import check_keys, read_yaml

DEFAULT_CODES_FILE = Path(__file__).resolve().parent / "codes.yml"

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"

# Our code systems, as paths under canonical_base: one per kind of thing we name.
FINDING = "finding"
FINDING_STATUS = "finding-status"
FINDING_CATEGORY = "finding-category"
DETECTOR = "detection-method"
LEVEL = "triage-level"
RULE = "triage-rule"
DOCUMENT = "source-document"
CHANNEL = "channel"
ASSESSMENT = "assessment"

_FILE_KEYS = {"version", "canonical_base", "red_flag_question", "statuses", "levels", "detectors", "concepts"}
_SECTION_KEYS = {
    "statuses": {"display", "snomed", "snomed_display"},
    "levels": {"display", "advice"},
    "detectors": {"display"},
    "concepts": {
        "display", "snomed", "snomed_display", "loinc", "loinc_display", "body_site", "body_site_display", "note",
    },
}
# A code and its display come together, or not at all.
_PAIRS = (("snomed", "snomed_display"), ("loinc", "loinc_display"), ("body_site", "body_site_display"))
_SCTID = re.compile(r"^[1-9][0-9]{5,17}$")
_LOINC = re.compile(r"^[0-9]{1,7}-[0-9]$")


class CodesError(ValueError):
    """codes.yml is malformed; the message names the entry."""


@dataclass(frozen=True)
class Entry:
    """One named thing: its display in our code system, and its standard codes where there are any."""

    name: str
    display: str
    snomed: Optional[str] = None
    snomed_display: Optional[str] = None
    loinc: Optional[str] = None
    loinc_display: Optional[str] = None
    body_site: Optional[str] = None
    body_site_display: Optional[str] = None
    advice: Optional[str] = None
    note: Optional[str] = None


@dataclass(frozen=True)
class Terminology:
    canonical_base: str
    red_flag_question: str
    statuses: Mapping[str, Entry]
    levels: Mapping[str, Entry]
    detectors: Mapping[str, Entry]
    concepts: Mapping[str, Entry] = field(default_factory=dict)

    def system(self, name: str) -> str:
        return f"{self.canonical_base}/CodeSystem/{name}"

    @property
    def pseudonym_system(self) -> str:
        """The identifier system of the pseudonyms (HMAC of the channel's sender id)."""
        return f"{self.canonical_base}/sid/pseudonym"

    @property
    def questionnaire_url(self) -> str:
        return f"{self.canonical_base}/Questionnaire/leg-numbness-triage"

    def ours(self, system: str, code: str, display: Optional[str] = None) -> Coding:
        return Coding(system=self.system(system), code=code, display=display or _readable(code))

    def concept(self, name: str) -> Entry:
        # A concept added to the language layer but not yet here still exports, in our codes only.
        return self.concepts.get(name) or Entry(name=name, display=_readable(name))

    def finding_code(self, name: str) -> CodeableConcept:
        entry = self.concept(name)
        standard = [_standard(SNOMED, entry.snomed, entry.snomed_display),
                    _standard(LOINC, entry.loinc, entry.loinc_display)]
        codings = [c for c in standard if c is not None] + [self.ours(FINDING, name, entry.display)]
        return CodeableConcept(coding=codings, text=entry.display)

    def finding_answer(self, name: str) -> Coding:
        """The concept as a Questionnaire answer: always our code, so answers match the answer options."""
        return self.ours(FINDING, name, self.concept(name).display)

    def body_site(self, name: str) -> Optional[CodeableConcept]:
        entry = self.concept(name)
        if not entry.body_site:
            return None
        return CodeableConcept(coding=[_standard(SNOMED, entry.body_site, entry.body_site_display)], text=entry.display)

    def status_code(self, status: str) -> CodeableConcept:
        entry = self.statuses.get(status) or Entry(name=status, display=_readable(status))
        codings = [self.ours(FINDING_STATUS, status, entry.display)]
        standard = _standard(SNOMED, entry.snomed, entry.snomed_display)
        if standard is not None:
            codings.append(standard)
        return CodeableConcept(coding=codings, text=entry.display)

    def status_coding(self, status: str) -> Coding:
        entry = self.statuses.get(status) or Entry(name=status, display=_readable(status))
        return self.ours(FINDING_STATUS, status, entry.display)

    def level_code(self, level: str) -> CodeableConcept:
        entry = self.level(level)
        return CodeableConcept(coding=[self.ours(LEVEL, level, entry.display)], text=entry.display)

    def level(self, level: str) -> Entry:
        return self.levels.get(level) or Entry(name=level, display=_readable(level))

    def detector(self, name: str) -> CodeableConcept:
        entry = self.detectors.get(name) or Entry(name=name, display=_readable(name))
        return CodeableConcept(coding=[self.ours(DETECTOR, name, entry.display)], text=entry.display)


def _readable(name: str) -> str:
    return name.replace("_", " ").replace(".", ": ", 1)


def _standard(system: str, code: Optional[str], display: Optional[str]) -> Optional[Coding]:
    return Coding(system=system, code=code, display=display) if code else None


def _entry(section: str, name: object, raw: object, where: str) -> Entry:
    if not isinstance(name, str) or not name:
        raise CodesError(f"{where}: names must be non-empty text, got {name!r}")
    data = check_keys(raw, _SECTION_KEYS[section], f"{where}: {name}", required={"display"}, error=CodesError)
    for key, value in data.items():
        if not isinstance(value, str) or not value.strip():
            raise CodesError(f"{where}: {name}: {key} must be non-empty text (quote codes), got {value!r}")
    for code, display in _PAIRS:
        if (code in data) != (display in data):
            raise CodesError(f"{where}: {name}: {code} and {display} go together")
    for key in ("snomed", "body_site"):
        if key in data and not _SCTID.match(data[key]):
            raise CodesError(f"{where}: {name}: {key} {data[key]!r} is not a SNOMED CT identifier")
    if "loinc" in data and not _LOINC.match(data["loinc"]):
        raise CodesError(f"{where}: {name}: loinc {data['loinc']!r} is not a LOINC code")
    return Entry(name=name, **data)


def load_terminology(path: Optional[Path] = None) -> Terminology:
    """Reads codes.yml (or `path`); raises CodesError on anything it does not understand."""
    path = Path(path or DEFAULT_CODES_FILE)
    data = check_keys(read_yaml(path, error=CodesError), _FILE_KEYS, str(path), required=_FILE_KEYS, error=CodesError)
    base = data["canonical_base"]
    if not isinstance(base, str) or not base.startswith(("http://", "https://")) or base.endswith("/"):
        raise CodesError(f"{path}: canonical_base must be an http(s) URL without a trailing /, got {base!r}")
    sections: Dict[str, Dict[str, Entry]] = {}
    for section in _SECTION_KEYS:
        raw = data[section]
        if not isinstance(raw, dict) or not raw:
            raise CodesError(f"{path}: {section} must be a non-empty mapping")
        where = f"{path.name}: {section}"
        sections[section] = {name: _entry(section, name, value, where) for name, value in raw.items()}
    question = data["red_flag_question"]
    if not isinstance(question, str) or not question:
        raise CodesError(f"{path}: red_flag_question must name a rulebook question, got {question!r}")
    return Terminology(canonical_base=base, red_flag_question=question, **sections)


@functools.lru_cache(maxsize=None)
def terminology() -> Terminology:
    """The shipped codes, read once on first use (never at import)."""
    return load_terminology()


def snomed_ids(terms: Terminology) -> List[str]:
    """Every SNOMED CT identifier the file uses (findings, body sites, statuses)."""
    entries = [*terms.concepts.values(), *terms.statuses.values()]
    return [code for entry in entries for code in (entry.snomed, entry.body_site) if code]
