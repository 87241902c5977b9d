"""Names shared with domain.yml, in one place."""
ACTION_TRIAGE = "action_triage"
# The Rasa server's own emergency reply (domain.yml, data/rules/safety.yml).
UTTER_EMERGENCY = "utter_emergency"

# Slots the action sets; they carry the conversation's progress between turns.
SLOT_REQUESTED_QUESTION = "requested_question"
SLOT_TRIAGE_GIVEN = "triage_given"
SLOT_EMERGENCY_GIVEN = "emergency_given"

