"""Names shared with domain.yml, in one place."""
ACTION_TRIAGE = "action_triage"

INTENT_GREET = "greet"
INTENT_GOODBYE = "goodbye"
INTENT_THANK = "thank"

UTTER_GREET = "utter_greet"
UTTER_GOODBYE = "utter_goodbye"

SESSION_BOUNDARY_EVENTS = ("session_started", "restart")
