"""What runs inside the Rasa server itself, so that it keeps its own line of defence.

- ``red_flags.RedFlagDetector``: an NLU component (config.yml) that applies the emergency
  criteria to every message and marks a red flag as the entity ``red_flag``; a rule
  (data/rules/safety.yml) then gives the domain response ``utter_emergency`` before the
  triage action runs. The emergency advice therefore needs no action server.
- ``responses.TriageResponses``: Rasa's response generator with the configured emergency
  number filled in (endpoints.yml ``nlg``).
- ``actions.GuardedRemoteAction``: Rasa's remote action with a short time-out; when the
  action server fails, the person gets ``technical_problem`` instead of silence.
- ``python -m bot.rasa_server ARGS``: Rasa's command line with the guarded action installed
  (bot.serve starts every Rasa command through it).
"""
