"""Telegram: Rasa's connector with what it lacks for us.

- ``TELEGRAM_API_URL``: the Bot API server (a self-hosted one, or a test server); Rasa's always
  talks to api.telegram.org.
- Every update must carry ``X-Telegram-Bot-Api-Secret-Token`` equal to ``TELEGRAM_WEBHOOK_SECRET``
  (Telegram sends it when the webhook was set with that secret); anything else is refused with 403
  before Rasa sees it, so it leaves no trace.
- Registering the webhook at start-up (``setWebhook``, with the secret) may fail: it is logged and the
  server starts anyway (Rasa's raises and the whole server stops).
- An update Rasa's handler cannot read (no text or location message, no button tap with its data: someone
  blocked the bot, an edit, a channel post, not even JSON) is acknowledged with 200 and ignored, after
  the secret check; Rasa's answers 500 to most of them, and Telegram then retries.
- An update that looks like a message but that aiogram cannot parse is acknowledged the same way.
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
from aiogram.types import Update
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.telegram import TelegramInput, TelegramOutput
from sanic import Blueprint, response
from sanic.exceptions import InvalidUsage
from sanic.request import Request

from ..settings import Settings
from .edge import BadRequest, parse_json
from .guard import guarded
from .rest import answer_unreadable

logger = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def _has_chat(message: Any) -> bool:
    chat = message.get("chat") if isinstance(message, dict) else None
    return isinstance(chat, dict) and type(chat.get("id")) is int  # Telegram's chat ids are integers


def is_for_rasa(update: Any) -> bool:
    """Whether Rasa's webhook handler can read ``update`` (the JSON it gets): a message with text or a
    location, or a button tap with its data and message. It assumes one of those and raises on the rest;
    an edited message it would answer as if new."""
    if isinstance(update, str):  # Rasa's handler also takes a JSON string holding the update
        try:
            update = parse_json(update)
        except BadRequest:
            return False
    if not isinstance(update, dict):
        return False
    query = update.get("callback_query")
    if query is not None:  # Rasa's order: a button tap first
        if not (isinstance(query, dict) and isinstance(query.get("data"), str) and _has_chat(query.get("message"))):
            return False
    else:
        message = update.get("message")
        if update.get("edited_message") is not None or not _has_chat(message):
            return False
        if not (isinstance(message.get("text"), str) or isinstance(message.get("location"), dict)):
            return False
    return aiogram_reads(update)


def aiogram_reads(update: Dict[str, Any]) -> bool:
    """Whether aiogram (which Rasa's handler uses) can parse the update: it raises on a date out of
    range or "entities": 5, which Telegram itself never sends."""
    try:
        Update(**update)
    except Exception:  # any failure to parse is the same answer: not readable
        return False
    return True


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
        async def check_the_update(request: Request) -> Optional[response.HTTPResponse]:
            if request.method == "POST" and not hmac.compare_digest(
                request.headers.get(SECRET_HEADER, "").encode(), self.secret.encode()
            ):
                logger.warning("Telegram: an update without the right secret token was refused")
                return response.text("forbidden", status=403)
            if request.method == "POST" and request.path.rstrip("/").endswith("/webhook"):
                try:
                    update = request.json  # parsed as Rasa's handler will get it (and kept for it)
                except InvalidUsage:  # not JSON
                    update = None
                if not is_for_rasa(update):
                    logger.info("Telegram: an update without a message was acknowledged and ignored")
                    return response.text("success")  # what Rasa's answers to a message it skips
            return None

        # A message aiogram cannot parse ("entities": 5, a date out of range): acknowledged too, or
        # Telegram would send it again and again.
        answer_unreadable(blueprint, "Telegram", lambda: response.text("success"))
        return blueprint
