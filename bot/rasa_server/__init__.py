"""What runs inside the Rasa server itself, so that it keeps its own line of defence.

- ``red_flags.RedFlagDetector``: an NLU component (config.yml) that applies the emergency
  criteria to every message and marks a red flag as the entity ``red_flag``; a rule
  (data/rules/safety.yml) then gives the domain response ``utter_emergency`` before the
  triage action runs. The emergency advice therefore needs no action server.
- ``responses.TriageResponses``: Rasa's response generator with the configured emergency
  number filled in (endpoints.yml ``nlg``).
- ``actions.GuardedRemoteAction``: Rasa's remote action with a short time-out; when the
  action server fails, the person gets ``technical_problem`` instead of silence.
- ``internals``: every private Rasa name we rely on (pinned by a test), and ``install()``, the one
  door for our changes to Rasa: the guarded remote action, event classes looked up once. It runs
  from ``python -m bot.rasa_server`` and whenever a model with RedFlagDetector loads, so ``rasa
  run`` and ``rasa shell`` get it too.
- ``python -m bot.rasa_server ARGS``: Rasa's command line with those changes installed
  (bot.serve starts every Rasa command through it).
"""
