"""The socket.io channel the website widget (bot/web) talks to.

Rasa's ``SocketIOInput`` builds its socket.io server with ``cors_allowed_origins=[]``, which
accepts a connection from a page on any origin. Ours passes the allowed origins from
``bot.settings`` (``ALLOWED_ORIGINS``), so engine.io refuses every other origin, the
WebSocket upgrade included. Its output channel also sends the triage payload as data the
widget can take (Rasa's emits it as keyword arguments, which reach the browser as nothing),
and marks the text of an emergency reply with a CSS class so that it stands out, from the
decision in the reply's payload (never from its wording).

Events are checked before Rasa's handlers see them (bot/channels/edge.py): a session id that no
database can store is replaced by a new one, a ``user_uttered`` that is not an object with a
text message and a usable session id is answered with a short "could not read" message (Rasa's
handler ignored it or failed), and a socket.io message larger than MAX_REQUEST_BYTES is refused
by engine.io.
"""
from __future__ import annotations

import uuid
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

from ..dialogue.replies import say
from ..settings import Settings
from .edge import BadRequest, clean_sender
from .guard import guarded

EMERGENCY_CLASS = "triage-emergency"


def triage_level(message: Dict[Text, Any]) -> Optional[str]:
    custom = message.get("custom")
    triage = custom.get("triage") if isinstance(custom, dict) else None
    return triage.get("level") if isinstance(triage, dict) else None


class WidgetOutput(SocketIOOutput):
    """Emits what rasa-webchat understands; an emergency's text bubbles get the emergency class."""

    def __init__(self, sio: Any, bot_message_evt: Text) -> None:
        super().__init__(sio, bot_message_evt)
        self._emergency = False

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        # Rasa sends a message's text (and buttons) first and its custom payload after, one call each.
        self._emergency = triage_level(message) == "emergency"
        try:
            await super().send_response(recipient_id, message)
        finally:
            self._emergency = False

    async def _send_message(self, socket_id: Text, response: Any) -> None:
        if self._emergency and isinstance(response, dict) and "text" in response:
            response = {**response, "metadata": {"customCss": {"style": "class", "css": EMERGENCY_CLASS}}}
        await super()._send_message(socket_id, response)

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        await self._send_message(recipient_id, {"custom": json_message})


class WidgetSocketIOInput(SocketIOInput):
    """Rasa's socket.io channel, open only to the allowed origins, answering through WidgetOutput."""

    allowed_origins: List[str] = []  # set by from_credentials, from bot.settings

    @classmethod
    def name(cls) -> Text:
        return "socketio"  # transcripts and trackers keep calling this channel socketio

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "WidgetSocketIOInput":
        channel = super().from_credentials(credentials)
        channel.allowed_origins = list(Settings.from_env().allowed_origins)
        return channel

    def get_output_channel(self) -> Optional[OutputChannel]:
        return WidgetOutput(self.sio, self.bot_message_evt) if self.sio is not None else super().get_output_channel()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def answer_through_widget_output(message: UserMessage) -> None:
            message.output_channel = WidgetOutput(self.sio, self.bot_message_evt)
            await behind_guard(message)

        behind_guard = guarded(on_new_message)

        blueprint = super().blueprint(answer_through_widget_output)
        # engine.io checks the Origin header of every request against this list (an empty list means any).
        self.sio.eio.cors_allowed_origins = list(self.allowed_origins) or None
        self.sio.eio.max_http_buffer_size = Settings.from_env().max_request_bytes
        self._check_events_first()
        return blueprint

    def _check_events_first(self) -> None:
        """Puts the edge checks in front of the handlers Rasa's blueprint registered."""
        handlers = self.sio.handlers[self.namespace or "/"]
        rasa_session_request, rasa_user_message = handlers["session_request"], handlers[self.user_message_evt]

        # A client may send an event with no argument or with several: python-socketio passes them
        # as they come, and a handler of a fixed arity raised TypeError (no answer at all).
        async def session_request(sid: Text, *args: Any) -> None:
            data = args[0] if args and isinstance(args[0], dict) else {}
            try:
                session_id = clean_sender(data.get("session_id"))
            except BadRequest:  # none, or one we cannot use: a new one, as Rasa does for none
                session_id = uuid.uuid4().hex
            await rasa_session_request(sid, {"session_id": session_id})

        async def user_message(sid: Text, *args: Any) -> None:
            try:
                checked = self._checked_message(sid, args[0] if len(args) == 1 else None)
            except BadRequest:
                number = Settings.from_env().emergency_number
                await self.sio.emit(self.bot_message_evt, {"text": say("unreadable", number).text}, room=sid)
                return
            await rasa_user_message(sid, checked)

        handlers["session_request"], handlers[self.user_message_evt] = session_request, user_message

    def _checked_message(self, sid: Text, data: Any) -> Dict[str, Any]:
        """Only the fields Rasa's handler reads, of the right types; the guard cleans their content."""
        if not isinstance(data, dict):
            raise BadRequest("the event must be an object")
        text = data.get("message")
        if text is None:
            text = ""
        if not isinstance(text, str):
            raise BadRequest("'message' must be a string")
        checked = {"message": text, self.metadata_key: data.get(self.metadata_key)}
        if not isinstance(checked[self.metadata_key], dict):
            checked[self.metadata_key] = {}  # Rasa's handler would json.loads a string, and fail on a bad one
        if self.session_persistence:
            checked["session_id"] = clean_sender(data.get("session_id"))
        return checked
