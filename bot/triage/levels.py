"""The triage levels, most urgent first, and the summary's red-flag heading: the names the store and staff share."""
from __future__ import annotations

from typing import Optional

EMERGENCY = "emergency"
DOCTOR = "doctor"
SELF_CARE = "self_care"
UNDETERMINED = "undetermined"
# The order in which levels are tried: the most urgent first.
RULE_LEVELS = (EMERGENCY, DOCTOR, SELF_CARE)
LEVELS = RULE_LEVELS + (UNDETERMINED,)
# The heading of the red flags in a decision's summary (Decision.summary; the staff app's symptom picture).
RED_FLAGS = "red_flags"
_URGENCY = {level: rank for rank, level in enumerate(LEVELS)}  # LEVELS lists the most urgent first


def more_urgent(level: str, than: Optional[str]) -> bool:
    """True when ``level`` is more urgent than ``than`` (anything is, than None)."""
    return than is None or _URGENCY.get(level, len(LEVELS)) < _URGENCY.get(than, len(LEVELS))
