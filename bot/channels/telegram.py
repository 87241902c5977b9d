"""Telegram: Rasa's connector with what it lacks for us.

- ``TELEGRAM_API_URL``: the Bot API server (a self-hosted one, or a test server); Rasa's always
  talks to api.telegram.org.
- Every update must carry ``X-Telegram-Bot-Api-Secret-Token`` equal to ``TELEGRAM_WEBHOOK_SECRET``
  (Telegram sends it when the webhook was set with that secret); anything else is refused with 403
  before Rasa sees it, so it leaves no trace.
- Registering the webhook at start-up (``setWebhook``, with the secret) may fail: it is logged and the
  server starts anyway (Rasa's raises and the whole server stops).
- Quick replies are an inline keyboard (Rasa's default); a tap comes back as the button's title.
Enabled by bot/serve.py when the settings have a token, a webhook secret and the bot's username.
"""
from __future__ import annotations

import asyncio
import hmac
import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from aiogram import Bot
from aiogram.bot.api import Methods, TelegramAPIServer
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.telegram import TelegramInput, TelegramOutput
from sanic import Blueprint, response
from sanic.request import Request

from ..settings import Settings
from .guard import guarded

logger = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class TriageTelegramOutput(TelegramOutput):
    def __init__(self, access_token: Optional[Text], api_url: Text) -> None:
        Bot.__init__(self, access_token, server=TelegramAPIServer.from_base(api_url))


class TriageTelegramInput(TelegramInput):
    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "TriageTelegramInput":
        settings = Settings.from_env()
        return cls(
            settings.telegram_token, settings.telegram_bot_username, settings.telegram_webhook_url,
            secret=settings.telegram_webhook_secret, api_url=settings.telegram_api_url,
        )

    def __init__(self, access_token, verify, webhook_url, secret: Optional[str] = None, api_url: str = "") -> None:
        super().__init__(access_token, verify, webhook_url, debug_mode=False)
        if not secret:
            raise ValueError("the Telegram channel needs TELEGRAM_WEBHOOK_SECRET")
        self.secret = secret
        self.api_url = api_url

    def get_output_channel(self) -> TriageTelegramOutput:
        channel = TriageTelegramOutput(self.access_token, self.api_url)
        if self.webhook_url:
            try:
                asyncio.run(self._register_webhook(channel))
            except Exception as error:  # an unreachable or refusing API must not stop the assistant
                logger.error("Telegram: could not register the webhook %s: %s", self.webhook_url, error)
        return channel

    async def _register_webhook(self, channel: TriageTelegramOutput) -> None:
        try:
            await channel.request(Methods.SET_WEBHOOK, {"url": self.webhook_url, "secret_token": self.secret})
            logger.info("Telegram: webhook registered at %s", self.webhook_url)
        finally:
            await channel.close()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(guarded(on_new_message))

        @blueprint.middleware("request")
        async def require_the_secret(request: Request) -> Optional[response.HTTPResponse]:
            if request.method == "POST" and not hmac.compare_digest(
                request.headers.get(SECRET_HEADER, "").encode(), self.secret.encode()
            ):
                logger.warning("Telegram: an update without the right secret token was refused")
                return response.text("forbidden", status=403)
            return None

        return blueprint
