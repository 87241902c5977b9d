"""What every resource builder shares: the codes, the rulebook, stable ids and how to refer to a resource."""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Optional

from fhir.resources.reference import Reference

from ..triage.rulebook import Rulebook
from .codes import Terminology

# Fixed forever: ids are uuid5 names under it, so exporting the same conversation twice gives the
# same ids, and a FHIR server that receives it twice updates instead of duplicating.
ID_NAMESPACE = uuid.UUID("6f0c2f3e-1b7a-5d2c-9a51-3c5e0f1d7b42")

# How references are written: inside a Bundle every entry has a urn:uuid fullUrl and references use
# it (FHIR's rule for bundles); in NDJSON each line stands alone, so references are "Type/id".
IN_BUNDLE = "bundle"
RELATIVE = "relative"


def resource_id(*parts: object) -> str:
    return str(uuid.uuid5(ID_NAMESPACE, "/".join(str(part) for part in parts)))


def conversation_key(sender: str, session_key: str) -> str:
    """Unique across databases (the pseudonym and when Rasa started the session), unlike our row id."""
    return f"{sender}/{session_key}"


def fhir_instant(moment: Optional[dt.datetime]) -> Optional[str]:
    """Our naive-UTC timestamps as FHIR dateTime/instant, which must carry a zone when they carry a time."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return moment.isoformat(timespec="milliseconds") + "Z"


@dataclass(frozen=True)
class ExportContext:
    terms: Terminology
    rulebook: Rulebook
    style: str = IN_BUNDLE

    def reference(self, resource_type: str, resource_id_: str, display: Optional[str] = None) -> Reference:
        if self.style == IN_BUNDLE:
            return Reference(reference=f"urn:uuid:{resource_id_}", type=resource_type, display=display)
        return Reference(reference=f"{resource_type}/{resource_id_}", display=display)

    def patient_id(self, pseudonym: str) -> str:
        return resource_id("patient", pseudonym)

    @property
    def device_id(self) -> str:
        return resource_id("device", "leg-numbness-triage-assistant")

    @property
    def questionnaire_id(self) -> str:
        return resource_id("questionnaire", self.terms.questionnaire_url, self.rulebook.version)

    @property
    def questionnaire_canonical(self) -> str:
        return f"{self.terms.questionnaire_url}|{self.rulebook.version}"
