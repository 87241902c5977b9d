"""Rasa's REST channel (POST /webhooks/rest/webhook), behind the edge checks and the guard.

The body is checked before Rasa reads it (bot/channels/edge.py): a bad shape gets HTTP 400 and
a body over MAX_REQUEST_BYTES gets 413, each with {"error": reason}; Rasa's own handler answered
500 to an empty body and 200 with silence to a number as the message. Rasa's handler then reads
the cleaned body, so a client cannot set the channel name ("input_channel") or anything else.
"""
from __future__ import annotations

from typing import Optional, Text

from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request

from ..settings import Settings
from .edge import BadRequest, rest_message
from .guard import OnNewMessage, guarded


def refused(error: BadRequest) -> response.HTTPResponse:
    return response.json({"error": error.reason}, status=error.status)


class GuardedRestInput(RestInput):
    @classmethod
    def name(cls) -> Text:
        return "rest"  # same URL and channel name as Rasa's own

    def _extract_input_channel(self, req: Request) -> Text:
        return self.name()

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        blueprint = super().blueprint(guarded(on_new_message))
        max_bytes = Settings.from_env().max_request_bytes

        @blueprint.middleware("request")
        async def check_the_body(request: Request) -> Optional[response.HTTPResponse]:
            if request.method != "POST":
                return None
            try:
                incoming = rest_message(request.body or b"", max_bytes)
            except BadRequest as error:
                return refused(error)
            request.parsed_json = incoming.as_json()  # what Rasa's handler reads as request.json
            return None

        return blueprint
