"""Names shared with domain.yml, in one place."""
ACTION_TRIAGE = "action_triage"

INTENT_GREET = "greet"
INTENT_GOODBYE = "goodbye"
INTENT_THANK = "thank"

SESSION_BOUNDARY_EVENTS = ("session_started", "restart")
