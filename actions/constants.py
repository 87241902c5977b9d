"""Names shared with domain.yml and data/rules, in one place."""
ACTION_TRIAGE = "action_triage"
# The Rasa server's own emergency reply (domain.yml, data/rules/safety.yml).
UTTER_EMERGENCY = "utter_emergency"

# The form that asks the rulebook's questions, and its validation action (domain.yml forms).
SYMPTOM_FORM = "symptom_form"
VALIDATE_SYMPTOM_FORM = "validate_symptom_form"
REQUESTED_SLOT = "requested_slot"  # Rasa's own slot: the question the form asks next

# Slots the actions set; they carry the conversation's progress between turns.
SLOT_REQUESTED_QUESTION = "requested_question"  # also a confirmation ("confirm:<sign>"), which is no slot
SLOT_TRIAGE_GIVEN = "triage_given"
SLOT_EMERGENCY_GIVEN = "emergency_given"
