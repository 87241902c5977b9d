"""Rasa action server code: thin wrappers that read the tracker, call `bot`, and respond."""
