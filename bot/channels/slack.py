"""Slack: Rasa's connector (which checks the request signature with the signing secret) with what
it lacks for us.

- ``SLACK_API_URL``: the Web API base (a test server); Rasa's always talks to slack.com.
- A retry (``X-Slack-Retry-Num``) is acknowledged and not answered again, whatever its reason
  (Rasa's answers again unless the reason is ``http_timeout``).
- The triage decision a message carries stays data: Rasa's would post it to Slack as arguments of
  ``chat.postMessage``. Quick replies are Slack buttons (Rasa's); a click answers with the title.
Enabled by bot/serve.py when the settings have a bot token and a signing secret.
"""
from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.slack import SlackBot, SlackInput
from sanic import response
from sanic.request import Request
from slack_sdk.web.async_client import AsyncWebClient

from ..settings import Settings
from .guard import guarded

logger = logging.getLogger(__name__)
RETRY_HEADER = "X-Slack-Retry-Num"


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

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "TriageSlackInput":
        settings = Settings.from_env()
        channel = cls(
            settings.slack_token, slack_signing_secret=settings.slack_signing_secret,
            slack_retry_reason_header="x-slack-retry-reason", slack_retry_number_header=RETRY_HEADER,
        )
        channel.api_url = settings.slack_api_url
        return channel

    def get_output_channel(self, channel: Optional[Text] = None, thread_id: Optional[Text] = None) -> OutputChannel:
        return TriageSlackBot(self.slack_token, channel or self.slack_channel, thread_id, self.api_url)

    async def process_message(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]],
        text: Text, sender_id: Optional[Text], metadata: Optional[Dict],
    ) -> Any:
        if request.headers.get(RETRY_HEADER):
            logger.info("Slack: retry #%s acknowledged, not answered again", request.headers.get(RETRY_HEADER))
            return response.text("", status=HTTPStatus.OK, headers={"X-Slack-No-Retry": "1"})
        return await super().process_message(request, guarded(on_new_message), text, sender_id, metadata)
