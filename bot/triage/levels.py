"""The triage levels, most urgent first: the one vocabulary the rulebook, the store and the staff app share."""
from __future__ import annotations

from typing import Optional

EMERGENCY = "emergency"
DOCTOR = "doctor"
SELF_CARE = "self_care"
UNDETERMINED = "undetermined"
# The order in which levels are tried: the most urgent first.
RULE_LEVELS = (EMERGENCY, DOCTOR, SELF_CARE)
LEVELS = RULE_LEVELS + (UNDETERMINED,)
_URGENCY = {level: rank for rank, level in enumerate(LEVELS)}  # LEVELS lists the most urgent first


def more_urgent(level: str, than: Optional[str]) -> bool:
    """True when ``level`` is more urgent than ``than`` (anything is, than None)."""
    return than is None or _URGENCY.get(level, len(LEVELS)) < _URGENCY.get(than, len(LEVELS))
