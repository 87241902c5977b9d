"""Triage: the rulebook (data), the engine (pure) and the service that joins them to the language layer."""
