"""Slack: Rasa's connector (which checks the request signature with the signing secret) with what
it lacks for us.

- ``SLACK_API_URL``: the Web API base (a test server); Rasa's always talks to slack.com.
- A retry (``X-Slack-Retry-Num``) is acknowledged and not answered again, whatever its reason
  (Rasa's answers again unless the reason is ``http_timeout``).
- An event delivered again with the same ``event_id`` (a replay inside the five minutes a signature
  stays valid) is acknowledged and not processed again; ids are remembered for ten minutes, at most
  10,000 of them. The signature is still checked first (Rasa's, before process_message).
- Text or a user id with a lone UTF-16 surrogate ("\\udc00" in the JSON) goes through as it parses:
  Rasa passes it on to the UserMessage, and guard.py replaces it.
- A signed body Rasa's handler cannot read (`[]`, `"event": null`, a form without `payload`, an
  action type it does not know) gets 400 with {"error": ...}; Rasa's answered 500.
- The triage decision a message carries stays data: Rasa's would post it to Slack as arguments of
  ``chat.postMessage``. Quick replies are Slack buttons (Rasa's); a click answers with the title.
Enabled by bot/serve.py when the settings have a bot token and a signing secret.
"""
from __future__ import annotations

import logging
import time
from collections import OrderedDict
from http import HTTPStatus
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.slack import SlackBot, SlackInput
from sanic import Blueprint, response
from sanic.request import Request
from slack_sdk.web.async_client import AsyncWebClient

from ..settings import Settings
from .guard import guarded
from .rest import answer_unreadable

logger = logging.getLogger(__name__)
RETRY_HEADER = "X-Slack-Retry-Num"


def unreadable_event() -> response.HTTPResponse:
    return response.json({"error": "the event could not be read"}, status=HTTPStatus.BAD_REQUEST)


class RecentEvents:
    """Event ids seen in the last ``max_age_s``, at most ``max_events`` (the oldest forgotten first)."""

    def __init__(self, max_age_s: float = 600.0, max_events: int = 10_000, clock: Callable[[], float] = time.monotonic):
        self.max_age_s, self.max_events, self.clock = max_age_s, max_events, clock
        self._seen: "OrderedDict[str, float]" = OrderedDict()  # in arrival order; only touched on the event loop

    def first_time(self, event_id: str) -> bool:
        now = self.clock()
        while self._seen and now - next(iter(self._seen.values())) > self.max_age_s:
            self._seen.popitem(last=False)
        if event_id in self._seen:
            return False
        self._seen[event_id] = now
        if len(self._seen) > self.max_events:
            self._seen.popitem(last=False)
        return True


class TriageSlackBot(SlackBot):
    def __init__(self, token: Text, channel: Optional[Text], thread_id: Optional[Text], api_url: Text) -> None:
        super().__init__(token, channel, thread_id)
        self.client = AsyncWebClient(token, base_url=api_url.rstrip("/") + "/")

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        if set(json_message) == {"triage"}:
            return  # the decision is in the text already; Slack has no place for our data
        await super().send_custom_json(recipient_id, json_message, **kwargs)


class TriageSlackInput(SlackInput):
    api_url = "https://slack.com/api/"  # from_credentials sets SLACK_API_URL

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.recent_events = RecentEvents()

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "TriageSlackInput":
        settings = Settings.from_env()
        channel = cls(
            settings.slack_token, slack_signing_secret=settings.slack_signing_secret,
            slack_retry_reason_header="x-slack-retry-reason", slack_retry_number_header=RETRY_HEADER,
        )
        channel.api_url = settings.slack_api_url
        return channel

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        answer_unreadable(blueprint, "Slack", unreadable_event)

        @blueprint.middleware("response")
        async def no_500_for_a_form_it_cannot_read(request: Request, answer: response.HTTPResponse) -> Any:
            # Rasa's handler itself answers 500 to an interactive action type it does not parse.
            if answer.status == HTTPStatus.INTERNAL_SERVER_ERROR:
                return unreadable_event()
            return None

        return blueprint

    def get_output_channel(self, channel: Optional[Text] = None, thread_id: Optional[Text] = None) -> OutputChannel:
        return TriageSlackBot(self.slack_token, channel or self.slack_channel, thread_id, self.api_url)

    async def process_message(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]],
        text: Text, sender_id: Optional[Text], metadata: Optional[Dict],
    ) -> Any:
        if request.headers.get(RETRY_HEADER):
            logger.info("Slack: retry #%s acknowledged, not answered again", request.headers.get(RETRY_HEADER))
            return response.text("", status=HTTPStatus.OK, headers={"X-Slack-No-Retry": "1"})
        # Only signed requests get here. Button clicks (a form) have no event id.
        event_id = request.json.get("event_id") if request.headers.get("content-type") == "application/json" else None
        if isinstance(event_id, str) and not self.recent_events.first_time(event_id):
            logger.info("Slack: event %r delivered again, acknowledged and not processed", event_id)
            return response.text("")
        return await super().process_message(request, guarded(on_new_message), text, sender_id, metadata)
