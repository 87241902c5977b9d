"""Rasa's REST channel (POST /webhooks/rest/webhook) behind the per-sender rate limit."""
from __future__ import annotations

from typing import Text

from rasa.core.channels.rest import RestInput
from sanic import Blueprint

from .guard import OnNewMessage, guarded


class GuardedRestInput(RestInput):
    @classmethod
    def name(cls) -> Text:
        return "rest"  # same URL and channel name as Rasa's own

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        return super().blueprint(guarded(on_new_message))
