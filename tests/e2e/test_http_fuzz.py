"""Fuzzing at the HTTP level, with Hypothesis, against the real servers: one assistant (Rasa server,
action server, staff app, widget page) with the Telegram and Slack channels on, talking to fake
platform APIs on 127.0.0.1.

What every generated request must get, per channel:
- REST: never a 5xx; exactly the status the edge rules give (400 or 413 with {"error": reason}, or 200);
  a 200 is a list holding at least one text (never silence, never the technical-problem message), and
  each message answered with 200 is stored exactly once.
- socket.io: every session_request is confirmed with a usable id, every user_uttered gets at least one
  bot_uttered (the "couldn't read" notice when it is malformed), and the server never drops us.
- Telegram: with the secret, 200 (a message is answered through the fake Bot API); without it, 403.
- Slack: signed, never a 5xx (a message is answered through the fake Web API); unsigned, 400.
- Staff app, signed in: generated ids, paths and query strings never give a 5xx.
After each test the four processes are alive and GET /webhooks/health/ answers 200.

Examples are derandomized (the same ones on every run) and nothing is saved between runs.
The REST tests come first: the stored-once check counts each sender's messages across them.
"""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from dataclasses import replace
from typing import Any, Dict, List, Optional, Tuple

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from http.client import HTTPConnection

from bot.serve import Assistant
from bot.channels.telegram import SECRET_HEADER, is_for_rasa
from bot.staff.accounts import add_user
from bot.store.database import make_engine, make_session_factory, transaction

from ..channels import test_slack as slack
from ..channels import test_telegram as telegram
from ..store.databases import free_port, transcripts_written
from .support import FIGURES, MODEL, TECHNICAL_PROBLEM, e2e_settings, stored_user_texts

pytestmark = pytest.mark.skipif(not MODEL.exists(), reason="needs a trained model: run `make train` (make test does)")

FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much, HealthCheck.large_base_example],
)
TIMEOUT_S = 60  # per request: only a hang trips it
REPLY_WAIT_S = 60
UNREADABLE = "Sorry, I couldn't read that message"
STAFF = ("fuzz-admin", "a long staff password for the fuzz tests")
STAFF_SECRET = "fuzz-staff-secret-key-0123456789"

_serial = itertools.count(1)
RUN = uuid.uuid4().hex[:6]


def unique(prefix: str = "") -> str:
    return f"{prefix}{RUN}{next(_serial):06d}"


# --- what is generated ------------------------------------------------------------------------

SURROGATES = st.integers(0xD800, 0xDFFF).map(chr)
ODD_PIECES = [
    "\x00", "\u200b", "\u200d", "\u202e", "\u202c", "\ufeff", "\u00ad", "\u2066", "\u2069", "\r\n", "\t", " ", "\x1b[31m",
    "\x7f", "\u0301", "<script>alert(1)</script>", "'; DROP TABLE transcript_messages; --", "{{7*7}}", "%s", "${HOME}",
    "/restart", "/greet", '/affirm{"x": [1, 2]}', "/{", "/", "numb", "leg", "my left foot has been numb", "no", "yes",
    "I can't control my bladder", "🦵", "😱", "é", "日本語", "رجلي", "\\u0000", '"', "\\", "\n\n",
]
ANY_TEXT = st.one_of(
    st.text(max_size=60),
    st.text(st.characters(blacklist_categories=()), max_size=60),
    st.lists(st.one_of(st.sampled_from(ODD_PIECES), SURROGATES), max_size=12).map("".join),
)
JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-(2**80), 2**80),
    st.floats(allow_nan=True, allow_infinity=True), ANY_TEXT,
)
JSON_VALUES = st.recursive(
    JSON_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4), max_leaves=10
)
class _Missing:
    """A field left out of the body (not null)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()
CONTENT_TYPES = [
    "application/json", None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=xyz",
    "application/json; charset=latin-1", "application/xml", "image/png", "*/*", "application/json, text/plain", "garbage",
]


def dumps(value: Any, ascii_only: bool = True) -> bytes:
    """JSON the way a client sends it: escaped (lone surrogates as \\udxxx), or raw UTF-8, where a lone
    surrogate becomes bytes that are not UTF-8 at all."""
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


def valid_sender_text() -> st.SearchStrategy:
    """A sender id with odd content, made unique so that the stored-once check can count it."""
    return st.builds(lambda text, tag: f"{text}{tag}", ANY_TEXT, st.builds(lambda: unique("-s")))


SENDERS = st.one_of(
    valid_sender_text(), valid_sender_text(), st.integers(), st.integers(-(2**70), 2**70),
    st.sampled_from(["", "   ", "\t\n", "x" * 128, "x" * 129, "\ud800" * 3]), JSON_VALUES, st.just(MISSING),
)
MESSAGES = st.one_of(ANY_TEXT, ANY_TEXT, st.none(), st.just(MISSING), JSON_VALUES)
METADATA = st.one_of(st.just(MISSING), JSON_VALUES, st.dictionaries(ANY_TEXT, JSON_VALUES, max_size=5))
EXTRA_FIELDS = st.dictionaries(
    st.one_of(st.sampled_from(["input_channel", "sender_id", "text", "parse_data", "customData", "session_id"]), ANY_TEXT),
    JSON_VALUES, max_size=3,
)


@st.composite
def rest_objects(draw) -> Dict[str, Any]:
    body = {k: v for k, v in draw(EXTRA_FIELDS).items() if k not in ("sender", "message", "metadata")}
    for name, strategy in (("sender", SENDERS), ("message", MESSAGES), ("metadata", METADATA)):
        value = draw(strategy)
        if value is not MISSING:
            body[name] = value
    return body


# --- the oracle: what the README says the REST channel answers -------------------------------

def storable(text: str) -> str:
    return re.sub("[\x00\ud800-\udfff]", "\ufffd", text)


def rest_expectation(body: bytes, max_bytes: int) -> Tuple[int, Optional[str]]:
    """(status, the sender id as stored) for a POST to the REST webhook."""
    if len(body) > max_bytes:
        return 413, None
    try:
        data = json.loads(body) if body.strip() else None
    except (ValueError, RecursionError):
        return 400, None
    if not isinstance(data, dict):
        return 400, None
    text = data.get("message")
    if text is not None and not isinstance(text, str):
        return 400, None
    sender = data.get("sender")
    if isinstance(sender, int) and not isinstance(sender, bool):
        sender = str(sender)
    if not isinstance(sender, str) or not sender.strip() or len(sender.strip()) > 128:
        return 400, None
    return 200, storable(sender.strip())


# --- HTTP --------------------------------------------------------------------------------------

def http(url: str, method: str = "POST", body: Optional[bytes] = None, headers: Optional[Dict[str, str]] = None,
         timeout: float = TIMEOUT_S) -> Tuple[int, Dict[str, str], bytes]:
    parts = urllib.parse.urlsplit(url)
    assert parts.hostname == "127.0.0.1", url  # only loopback
    connection = HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        target = parts.path + ("?" + parts.query if parts.query else "")
        connection.request(method, target, body=body, headers=headers or {})
        answer = connection.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        connection.close()


def as_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


# --- the assistant -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def assistant(tmp_path_factory, apis):
    settings = e2e_settings(
        tmp_path_factory.mktemp("http-fuzz"), staff_port=free_port(), web_port=free_port(), staff_secret_key=STAFF_SECRET,
        telegram_token=telegram.TOKEN, telegram_webhook_secret=telegram.SECRET, telegram_bot_username=telegram.USERNAME,
        telegram_api_url=apis["telegram"].url, slack_token=slack.TOKEN, slack_signing_secret=slack.SIGNING_SECRET,
        slack_api_url=apis["slack"].url + "/api/",
    )
    settings = replace(settings, rate_limit_per_minute=100000)  # so that the limiter masks nothing
    started = time.monotonic()
    with Assistant(settings, quiet=True, staff=True, web=True) as running:
        FIGURES["fuzz: seconds to start the assistant"] = round(time.monotonic() - started)
        yield running


@pytest.fixture(scope="module")
def expected_stored() -> Counter:
    """REST messages answered with 200, per sender id as stored, across the REST tests."""
    return Counter()


def processes_alive(assistant: Assistant) -> None:
    dead = {name: process.poll() for name, process in assistant.processes.items() if process.poll() is not None}
    assert not dead, f"processes died: {dead}\n" + "\n".join(assistant.tail(name, 60) for name in dead)


def assert_all_well(assistant: Assistant) -> None:
    """After a batch: every process alive and the health check all ok (once the transcripts are written)."""
    assert set(assistant.processes) == {"rasa", "actions", "staff", "web"}
    processes_alive(assistant)
    transcripts_written(assistant.settings.data_dir)
    deadline = time.monotonic() + 30
    while True:  # a record still waiting in the spool makes the report say 503 for a moment
        status, _, raw = http(assistant.settings.rasa_url + "/webhooks/health/", "GET")
        if status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert status == 200, raw.decode("utf-8", "replace")
    processes_alive(assistant)


def assert_stored_once(assistant: Assistant, expected: Counter, senders: set) -> None:
    for sender in sorted(senders):
        stored = stored_user_texts(assistant.settings, sender)
        assert len(stored) == expected[sender], (sender, expected[sender], stored)
    FIGURES["fuzz: REST senders whose transcript was counted"] += len(senders)


# --- REST ----------------------------------------------------------------------------------------

def rest_post(assistant: Assistant, body: bytes, content_type: Optional[str] = "application/json") -> Tuple[int, Any]:
    headers = {"Content-Type": content_type} if content_type else {}
    status, _, raw = http(assistant.settings.rasa_url + "/webhooks/rest/webhook", body=body, headers=headers)
    FIGURES["fuzz: REST requests"] += 1
    return status, as_json(raw) if raw else None


def check_rest(assistant: Assistant, body: bytes, expected: Counter, senders: set,
               content_type: Optional[str] = "application/json") -> int:
    status, answer = rest_post(assistant, body, content_type)
    want, sender = rest_expectation(body, assistant.settings.max_request_bytes)
    assert status < 500, (status, answer, body[:300])
    assert status == want, (status, want, answer, body[:300])
    if status in (400, 413):
        assert isinstance(answer, dict) and isinstance(answer.get("error"), str) and answer["error"], answer
        FIGURES[f"fuzz: REST answers {status}"] += 1
    else:
        assert isinstance(answer, list), answer
        said = [m.get("text") for m in answer if isinstance(m, dict) and m.get("text")]
        assert said and all(isinstance(t, str) for t in said), (answer, body[:300])  # never silence
        assert not any(TECHNICAL_PROBLEM in t for t in said), (said, body[:300])
        expected[sender] += 1
        senders.add(sender)
        FIGURES["fuzz: REST answers 200"] += 1
    processes_alive(assistant)
    return status


def finish_rest_batch(assistant: Assistant, expected_stored: Counter, senders: set) -> None:
    assert_all_well(assistant)
    assert_stored_once(assistant, expected_stored, senders)


def test_rest_arbitrary_bytes(assistant, expected_stored):
    senders: set = set()  # whom the 200 answers went to

    @settings(FUZZ, max_examples=600)
    @given(body=st.one_of(st.binary(max_size=300), st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass"))),
           content_type=st.sampled_from(CONTENT_TYPES))
    def fuzz(body, content_type):
        check_rest(assistant, body, expected_stored, senders, content_type)

    fuzz()
    finish_rest_batch(assistant, expected_stored, senders)


def test_rest_arbitrary_json_values(assistant, expected_stored):
    senders: set = set()  # whom the 200 answers went to

    @settings(FUZZ, max_examples=400)
    @given(value=JSON_VALUES, ascii_only=st.booleans())
    def fuzz(value, ascii_only):
        check_rest(assistant, dumps(value, ascii_only), expected_stored, senders)

    fuzz()
    finish_rest_batch(assistant, expected_stored, senders)


def test_rest_objects_with_fields_of_every_type(assistant, expected_stored):
    senders: set = set()  # whom the 200 answers went to

    @settings(FUZZ, max_examples=800)
    @given(body=rest_objects(), ascii_only=st.booleans())
    def fuzz(body, ascii_only):
        check_rest(assistant, dumps(body, ascii_only), expected_stored, senders)

    fuzz()
    finish_rest_batch(assistant, expected_stored, senders)


def test_rest_text_with_surrogates_nul_and_invisible_characters(assistant, expected_stored):
    senders: set = set()  # whom the 200 answers went to
    odd_text = st.lists(st.one_of(SURROGATES, st.sampled_from(ODD_PIECES), st.text(max_size=5)), min_size=1, max_size=20)

    @settings(FUZZ, max_examples=300)
    @given(sender=odd_text.map("".join), text=odd_text.map("".join), metadata=METADATA)
    # Found by this test: a message of slashes only was answered with the technical-problem message.
    @example(sender="slash", text="/", metadata=MISSING)
    @example(sender="slashes", text=" // ", metadata=MISSING)
    @example(sender="\ud800", text="\u200b\ufeff\u00ad", metadata={"\udc00": "\x00"})
    def fuzz(sender, text, metadata):
        body = {"sender": sender + unique("-u"), "message": text}
        if metadata is not MISSING:
            body["metadata"] = metadata
        check_rest(assistant, dumps(body, ascii_only=True), expected_stored, senders)

    fuzz()
    finish_rest_batch(assistant, expected_stored, senders)


def padded(body: Dict[str, Any], size: int) -> bytes:
    """The body as JSON of exactly ``size`` bytes (or the smallest it can be), padded in an ignored field."""
    plain = dumps(dict(body, padding=""))
    return dumps(dict(body, padding="x" * max(0, size - len(plain))))


def test_rest_large_bodies_under_and_over_the_limit(assistant, expected_stored):
    senders: set = set()  # whom the 200 answers went to
    limit = assistant.settings.max_request_bytes

    @settings(FUZZ, max_examples=40)
    @given(size=st.one_of(st.integers(limit - 4096, limit), st.integers(limit + 1, limit + 65536), st.just(limit),
                          st.just(limit + 1)),
           text=st.sampled_from(["my leg is numb", "", "numb " * 400, "I can't control my bladder"]),
           content_type=st.sampled_from(["application/json", None, "text/plain"]))
    def fuzz(size, text, content_type):
        body = padded({"sender": unique("big-"), "message": text}, size)
        assert len(body) == size
        check_rest(assistant, body, expected_stored, senders, content_type)

    fuzz()
    # Long texts read by Rasa itself (few sentences: see test_bad_input about the regex featurizer).
    for words in (20000, 40000):
        text = "my leg is numb and tingly " * (words // 6) + "and I can't control my bladder"
        check_rest(assistant, dumps({"sender": unique("long-"), "message": text}), expected_stored, senders)
    finish_rest_batch(assistant, expected_stored, senders)


DEEP_BODIES = [b"[" * 1000 + b"]" * 1000, b'{"a": ' * 1000 + b"1" + b"}" * 1000, b"[" * 100000]


def test_rest_deeply_nested_and_huge_numbers(assistant, expected_stored):
    """What Python's own json module trips on: nesting past its recursion limit, numbers past its
    integer-string limit. Explicit cases, not generated."""
    senders: set = set()  # whom the 200 answers went to
    deep = DEEP_BODIES + [
        b'{"a":' * 100000,
        b'{"sender": "x", "message": "y", "metadata": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"sender": "' + unique("deep-").encode() + b'", "message": "hi", "metadata": {"a": ' + b'{"b": ' * 50
        + b"1" + b"}" * 50 + b"}}",
        b'{"sender": ' + b"9" * 5000 + b', "message": "x"}',
        b'{"sender": "a", "message": ' + b"1" * 5000 + b"}",
        b'{"sender": "' + unique("num-").encode() + b'", "message": "x", "metadata": {"n": 1e999, "m": -1e999}}',
    ]
    for body in deep:
        check_rest(assistant, body, expected_stored, senders)
    finish_rest_batch(assistant, expected_stored, senders)


def test_rest_other_methods_and_paths(assistant):
    rasa = assistant.settings.rasa_url

    @settings(FUZZ, max_examples=200)
    @given(method=st.sampled_from(["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "POST"]),
           path=st.one_of(st.sampled_from(["/webhooks/rest/webhook", "/webhooks/rest/", "/webhooks/rest/webhook/",
                                           "/webhooks/health/", "/webhooks/socketio/", "/webhooks/telegram/",
                                           "/webhooks/slack/", "/", "/model/parse", "/conversations/x/tracker", "/status"]),
                          st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=40).map(
                              lambda p: "/webhooks/" + urllib.parse.quote(p))),
           query=st.dictionaries(ANY_TEXT, ANY_TEXT, max_size=3).map(
               lambda q: urllib.parse.urlencode(q, errors="surrogatepass")),
           body=st.one_of(st.none(), st.binary(max_size=100)))
    def fuzz(method, path, query, body):
        if path.startswith("/webhooks/telegram") or path.startswith("/webhooks/slack"):
            return  # their webhooks are fuzzed below, with their secrets
        status, _, raw = http(rasa + path + ("?" + query if query else ""), method, body)
        FIGURES["fuzz: REST requests"] += 1
        assert status < 500, (method, path, query, status, raw[:300])
        processes_alive(assistant)

    fuzz()
    assert_all_well(assistant)


# --- socket.io -----------------------------------------------------------------------------------

class Socket:
    """One socket.io connection as the widget opens it (python-socketio's client, threads)."""

    def __init__(self, assistant: Assistant, transport: str):
        import socketio

        self.confirmed: List[Any] = []
        self.uttered: List[Any] = []
        self.dropped: List[str] = []
        self.closing = False
        self.changed = threading.Condition()
        # websocket-client adds an Origin of its own (the server's) unless told not to: with ours too,
        # the server would see both, joined, and refuse the WebSocket.
        self.client = socketio.Client(reconnection=False, websocket_extra_options={"suppress_origin": True})
        self.client.on("session_confirm", lambda *args: self._got(self.confirmed, args))
        self.client.on("bot_uttered", lambda *args: self._got(self.uttered, args))
        self.client.on("disconnect", self._disconnected)
        self.client.connect(assistant.settings.rasa_url, headers={"Origin": assistant.settings.web_url},
                            socketio_path="/socket.io/", transports=[transport], wait_timeout=30)

    def _got(self, into: List[Any], args: tuple) -> None:
        with self.changed:
            into.append(args[0] if len(args) == 1 else args)
            self.changed.notify_all()

    def _disconnected(self) -> None:
        with self.changed:
            if not self.closing:
                self.dropped.append("disconnected by the server")
            self.changed.notify_all()

    def emit(self, event: str, args: tuple) -> None:
        self.client.emit(event, args)  # a tuple: each item is one argument of the event
        FIGURES["fuzz: socket.io events"] += 1

    def wait_for(self, items: List[Any], count: int, what: str, timeout: float = REPLY_WAIT_S) -> None:
        with self.changed:
            got = self.changed.wait_for(lambda: len(items) >= count or self.dropped, timeout=timeout)
        assert not self.dropped, f"socket.io: {self.dropped} while waiting for {what}"
        assert got, f"socket.io: {what} never came"

    def session(self, session_id: Any = None) -> str:
        self.emit("session_request", ({"session_id": session_id or uuid.uuid4().hex},))
        self.wait_for(self.confirmed, 1, "session_confirm")
        return self.confirmed[-1]

    def close(self) -> None:
        self.closing = True
        assert self.client.connected and not self.dropped, self.dropped
        self.client.disconnect()

    def __enter__(self) -> "Socket":
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is None:
            self.close()
        else:
            self.closing = True
            self.client.disconnect()


def usable_session_id(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 128 and value == value.strip() and not re.search(
        "[\x00\ud800-\udfff]", value)


def reply_texts(items: List[Any]) -> List[str]:
    return [item["text"] for item in items if isinstance(item, dict) and isinstance(item.get("text"), str)]


ONE_ARGUMENT = st.one_of(JSON_VALUES, st.binary(max_size=50), st.dictionaries(ANY_TEXT, JSON_VALUES, max_size=4))
SESSION_IDS = st.one_of(
    valid_sender_text(), st.integers(), st.none(), st.just(MISSING), JSON_VALUES,
    st.sampled_from(["", "   ", "x" * 129, "\ud800", "\x00", " padded "]).map(
        lambda s: s + unique("-p") if s.strip() and len(s) < 100 else s),
)


def test_socketio_session_requests_of_every_type(assistant):
    @settings(FUZZ, max_examples=100)
    @given(payload=st.one_of(ONE_ARGUMENT, SESSION_IDS.map(lambda s: {} if s is MISSING else {"session_id": s})),
           transport=st.sampled_from(["websocket", "polling"]))
    def fuzz(payload, transport):
        with Socket(assistant, transport) as socket:
            socket.emit("session_request", (payload,))
            socket.wait_for(socket.confirmed, 1, "session_confirm")
            session_id = socket.confirmed[0]
            assert usable_session_id(session_id), (payload, session_id)
            # The confirmed session works: a message in it is answered in it.
            socket.emit("user_uttered", ({"message": "my leg is numb", "session_id": session_id},))
            socket.wait_for(socket.uttered, 1, "a reply in the confirmed session")
            assert not any(UNREADABLE in t for t in reply_texts(socket.uttered)), socket.uttered
        processes_alive(assistant)

    fuzz()
    assert_all_well(assistant)


@st.composite
def user_uttered_payloads(draw) -> Tuple[Any, bool]:
    """(payload, whether it is well-formed) for a user_uttered in a confirmed session. A session id
    that is usable but not this socket's is not generated: the reply goes to that session's room."""
    if draw(st.integers(0, 4)) == 0:
        value = draw(st.one_of(JSON_SCALARS, st.lists(JSON_VALUES, max_size=3), st.binary(max_size=50)))
        return value, False
    body = {k: v for k, v in draw(st.dictionaries(ANY_TEXT, JSON_VALUES, max_size=3)).items()
            if k not in ("message", "session_id", "customData")}
    message = draw(MESSAGES)
    if message is not MISSING:
        body["message"] = message
    session = draw(st.one_of(st.just("confirmed"), st.just("confirmed"), st.just(MISSING),
                             st.sampled_from([None, "", "   ", "x" * 129, 0.5, True, [], {}])))
    if session is not MISSING:
        body["session_id"] = session
    custom = draw(st.one_of(st.just(MISSING), JSON_VALUES, st.just("{not json"), st.just('{"language": "en"}')))
    if custom is not MISSING:
        body["customData"] = custom
    well_formed = (message is MISSING or message is None or isinstance(message, str)) and session == "confirmed"
    return body, well_formed


def test_socketio_user_uttered_of_every_type(assistant):
    @settings(FUZZ, max_examples=300)
    @given(payload=user_uttered_payloads(), transport=st.sampled_from(["websocket", "websocket", "polling"]))
    def fuzz(payload, transport):
        payload, well_formed = payload
        with Socket(assistant, transport) as socket:
            session_id = socket.session()
            if isinstance(payload, dict) and payload.get("session_id") == "confirmed":
                payload = dict(payload, session_id=session_id)
            socket.emit("user_uttered", (payload,))
            socket.wait_for(socket.uttered, 1, f"a bot_uttered for {payload!r:.200}")
            said = reply_texts(socket.uttered)
            assert said and all(said), socket.uttered
            assert any(UNREADABLE in t for t in said) != well_formed, (payload, said)
            assert not any(TECHNICAL_PROBLEM in t for t in said), said
        FIGURES["fuzz: socket.io user_uttered answered"] += 1
        processes_alive(assistant)

    fuzz()
    assert_all_well(assistant)


@pytest.mark.parametrize("event", ["session_request", "user_uttered"])
@pytest.mark.parametrize("args", [(), ("a", "b"), ({"message": "my leg is numb", "session_id": "confirmed"}, {"x": 1})],
                         ids=["no-argument", "two-strings", "message-and-an-extra-argument"])
def test_socketio_events_with_no_or_extra_arguments_are_answered(assistant, event, args):
    """A socket.io event carries any number of arguments; the handlers take exactly one."""
    with Socket(assistant, "websocket") as socket:
        if event == "session_request":
            socket.emit(event, args)
            socket.wait_for(socket.confirmed, 1, f"session_confirm for a session_request with {len(args)} argument(s)",
                            timeout=10)
            assert usable_session_id(socket.confirmed[0])
        else:
            session_id = socket.session()
            args = tuple(dict(a, session_id=session_id) if isinstance(a, dict) and "session_id" in a else a for a in args)
            socket.emit(event, args)
            socket.wait_for(socket.uttered, 1, f"a bot_uttered for a user_uttered with {len(args)} argument(s)", timeout=10)
    processes_alive(assistant)


def test_socketio_a_message_over_the_size_limit_is_refused_and_the_server_goes_on(assistant):
    limit = assistant.settings.max_request_bytes
    for transport in ("websocket", "polling"):
        socket = Socket(assistant, transport)
        try:
            session_id = socket.session()
            socket.emit("user_uttered", ({"message": "numb " * (limit // 4), "session_id": session_id},))
            with socket.changed:  # refused by engine.io: the connection is closed, or the message dropped
                socket.changed.wait_for(lambda: socket.uttered or socket.dropped, timeout=10)
        finally:
            socket.closing = True
            socket.client.disconnect()
        processes_alive(assistant)
        with Socket(assistant, transport) as again:  # a new connection is served as usual
            session_id = again.session()
            again.emit("user_uttered", ({"message": "my leg is numb", "session_id": session_id},))
            again.wait_for(again.uttered, 1, "a reply after the oversized message")
    assert_all_well(assistant)


# --- Telegram ------------------------------------------------------------------------------------

def telegram_post(assistant: Assistant, body: bytes, secret: Optional[str] = telegram.SECRET,
                  content_type: Optional[str] = "application/json") -> int:
    headers = {"Content-Type": content_type} if content_type else {}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    status, _, raw = http(assistant.settings.rasa_url + "/webhooks/telegram/webhook", body=body, headers=headers)
    FIGURES["fuzz: Telegram updates"] += 1
    assert status < 500, (status, raw[:300], body[:300])
    return status


CHAT_IDS = st.one_of(st.just("unique"), st.just("unique"), st.integers(), JSON_VALUES)


@st.composite
def telegram_updates(draw) -> Tuple[Any, Optional[int]]:
    """(update, the chat id a reply must go to, or None when the update is not a message Rasa can read)."""
    chat_value = draw(CHAT_IDS)
    chat_id = 10**12 + next(_serial) if chat_value == "unique" else chat_value
    chat = draw(st.one_of(st.just({"id": chat_id, "type": "private", "first_name": "Pat"}), JSON_VALUES))
    person = draw(st.one_of(st.just({"id": 5, "is_bot": False, "first_name": "Pat"}), JSON_VALUES, st.just(MISSING)))
    message: Dict[str, Any] = {"message_id": draw(st.one_of(st.integers(), JSON_VALUES)), "date": draw(st.integers()),
                               "chat": chat}
    if person is not MISSING:
        message["from"] = person
    kind = draw(st.sampled_from(["text", "text", "text", "location", "button", "edited", "other", "junk"]))
    text = draw(st.one_of(ANY_TEXT, ANY_TEXT, JSON_VALUES))
    message.update(draw(st.dictionaries(st.sampled_from(["entities", "reply_to_message", "sticker", "photo", "caption"]),
                                        JSON_VALUES, max_size=2)))
    update: Any = {"update_id": draw(st.one_of(st.integers(), JSON_VALUES))}
    if kind == "text":
        update["message"] = dict(message, text=text)
    elif kind == "location":
        update["message"] = dict(message, location=draw(st.one_of(
            st.fixed_dictionaries({"longitude": st.floats(-180, 180), "latitude": st.floats(-90, 90)}), JSON_VALUES)))
    elif kind == "button":
        update["callback_query"] = {"id": "1", "from": person if person is not MISSING else {}, "chat_instance": "1",
                                    "data": text, "message": dict(message, text="a question")}
    elif kind == "edited":
        update["edited_message"] = dict(message, text=text, edit_date=1)
    elif kind == "other":
        update[draw(st.sampled_from(["channel_post", "my_chat_member", "poll", "inline_query"]))] = draw(JSON_VALUES)
    else:
        update = draw(JSON_VALUES)
    answered_chat = None
    if chat_value == "unique" and isinstance(chat, dict) and chat.get("id") == chat_id and is_for_rasa(update) \
            and kind in ("text", "button", "location"):
        answered_chat = chat_id
    return update, answered_chat


def test_telegram_updates_with_the_secret(assistant, apis):
    api = apis["telegram"]

    @settings(FUZZ, max_examples=400)
    @given(update=telegram_updates(), ascii_only=st.booleans())
    def fuzz(update, ascii_only):
        update, chat = update
        status = telegram_post(assistant, dumps(update, ascii_only))
        assert status == 200, (status, update)
        if chat is not None:  # the webhook answers once the replies are sent
            assert telegram.sent_to(api, chat), f"no reply to a readable update {update!r:.300}"
            FIGURES["fuzz: Telegram messages answered"] += 1
        processes_alive(assistant)

    fuzz()
    assert_all_well(assistant)


def test_telegram_arbitrary_bodies_with_the_secret(assistant):
    @settings(FUZZ, max_examples=200)
    @given(body=st.one_of(st.binary(max_size=200), JSON_VALUES.map(dumps)), content_type=st.sampled_from(CONTENT_TYPES))
    def fuzz(body, content_type):
        assert telegram_post(assistant, body, content_type=content_type) == 200
        processes_alive(assistant)

    fuzz()
    for body in DEEP_BODIES:
        assert telegram_post(assistant, body) == 200
    assert_all_well(assistant)


def test_telegram_updates_without_the_right_secret(assistant, apis):
    api = apis["telegram"]

    @settings(FUZZ, max_examples=150)
    @given(update=telegram_updates(), body=st.one_of(st.none(), st.binary(max_size=100)),
           secret=st.one_of(st.none(), st.just(""), st.just(telegram.SECRET + "x"), st.just(telegram.SECRET[:-1]),
                            st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=40)))
    def fuzz(update, body, secret):
        update, chat = update
        before = len(api.calls_to("sendMessage"))
        assert telegram_post(assistant, body if body is not None else dumps(update), secret=secret) == 403
        assert len(api.calls_to("sendMessage")) == before
        processes_alive(assistant)

    fuzz()
    assert_all_well(assistant)


# --- Slack ---------------------------------------------------------------------------------------

def slack_post(assistant: Assistant, body: bytes, content_type: Optional[str], sign: bool = True,
               secret: str = slack.SIGNING_SECRET, timestamp: Optional[str] = None,
               extra: Optional[Dict[str, str]] = None) -> Tuple[int, bytes]:
    timestamp = timestamp if timestamp is not None else str(int(time.time()))
    headers = {"X-Slack-Request-Timestamp": timestamp}
    if content_type:
        headers["Content-Type"] = content_type
    if sign:
        digest = hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
        headers["X-Slack-Signature"] = f"v0={digest}"
    headers.update(extra or {})
    status, _, raw = http(assistant.settings.rasa_url + "/webhooks/slack/webhook", body=body, headers=headers)
    FIGURES["fuzz: Slack requests"] += 1
    return status, raw


@st.composite
def slack_events(draw) -> Tuple[Any, Optional[str]]:
    """(event_callback-shaped JSON, the channel a reply must be posted to, or None)."""
    user = draw(st.one_of(st.just("unique"), st.just("unique"), JSON_VALUES))
    tag = unique()
    user_id, channel_id = (f"U{tag}", f"D{tag}") if user == "unique" else (user, draw(st.one_of(ANY_TEXT, JSON_VALUES)))
    text = draw(st.one_of(ANY_TEXT, ANY_TEXT, JSON_VALUES))
    event: Dict[str, Any] = {"type": draw(st.sampled_from(["message", "message", "app_mention", "reaction_added", ""])),
                             "channel_type": draw(st.sampled_from(["im", "im", "channel", "group"])), "channel": channel_id,
                             "user": user_id, "text": text, "ts": f"{time.time():.6f}"}
    event.update(draw(st.dictionaries(st.sampled_from(["bot_id", "thread_ts", "subtype", "blocks", "files"]), JSON_VALUES,
                                      max_size=2)))
    body: Dict[str, Any] = {"token": "unused", "team_id": "T0001", "type": "event_callback",
                            "event_id": draw(st.one_of(st.builds(lambda: unique("Ev")), JSON_VALUES)),
                            "event_time": int(time.time()),
                            "event": draw(st.one_of(st.just(event), st.just(event), JSON_VALUES))}
    users = draw(st.one_of(st.just(["UBOT"]), st.just(MISSING), JSON_VALUES))
    if users is not MISSING:
        body["authed_users"] = users
    if draw(st.integers(0, 6)) == 0:
        body["authorizations"] = draw(JSON_VALUES)
    if draw(st.integers(0, 8)) == 0:
        body["challenge"] = draw(JSON_VALUES)
    answered = None
    if (user == "unique" and body["event"] is event and event["type"] in ("message", "app_mention")
            and isinstance(text, str) and text.strip() and not event.get("bot_id") and event["channel_type"] == "im"
            and users == ["UBOT"] and "authorizations" not in body and "challenge" not in body
            and isinstance(body["event_id"], str)):
        answered = channel_id
    return body, answered


def test_slack_signed_events(assistant, apis):
    api = apis["slack"]
    to_answer: List[str] = []

    @settings(FUZZ, max_examples=300)
    @given(event=slack_events(), ascii_only=st.booleans())
    def fuzz(event, ascii_only):
        event, channel = event
        body = dumps(event, ascii_only)
        status, raw = slack_post(assistant, body, "application/json")
        assert status < 500, (status, raw[:300], event)
        if channel is not None:
            assert status == 200, (status, raw[:300])
            to_answer.append(channel)
        processes_alive(assistant)

    fuzz()
    # Slack is answered in the background: every readable message gets a reply, in the end.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not all(slack.posted(api, channel) for channel in to_answer):
        time.sleep(0.5)
    assert all(slack.posted(api, channel) for channel in to_answer), [c for c in to_answer if not slack.posted(api, c)]
    FIGURES["fuzz: Slack messages answered"] += len(to_answer)
    assert_all_well(assistant)


@st.composite
def slack_forms(draw) -> bytes:
    """URL-encoded bodies, as Slack sends button clicks: payload is JSON, or not, or absent."""
    action = draw(st.one_of(
        st.fixed_dictionaries({"type": st.sampled_from(["button", "select", "static_select", "overflow", "datepicker",
                                                         "users_select", "link", ""]),
                               "value": st.one_of(ANY_TEXT, JSON_VALUES)},
                              optional={"selected_options": JSON_VALUES, "selected_option": JSON_VALUES,
                                        "text": JSON_VALUES}),
        JSON_VALUES))
    payload = draw(st.one_of(
        st.fixed_dictionaries({"type": st.just("block_actions"), "user": st.one_of(
            st.builds(lambda: {"id": unique("U")}), JSON_VALUES), "actions": st.one_of(st.just([action]), JSON_VALUES)},
            optional={"channel": JSON_VALUES, "message": JSON_VALUES}),
        JSON_VALUES))
    fields = draw(st.one_of(
        st.just({"payload": json.dumps(payload)}), st.just({"payload": json.dumps(payload)}),
        st.dictionaries(ANY_TEXT, ANY_TEXT, max_size=3), st.builds(lambda junk: {"payload": junk}, ANY_TEXT)))
    return urllib.parse.urlencode(fields, errors="surrogatepass").encode()


def test_slack_signed_forms_and_arbitrary_bodies(assistant):
    @settings(FUZZ, max_examples=300)
    @given(body=st.one_of(slack_forms(), slack_forms(), st.binary(max_size=200), JSON_VALUES.map(dumps)),
           content_type=st.sampled_from(["application/x-www-form-urlencoded", "application/x-www-form-urlencoded",
                                         "application/json"] + CONTENT_TYPES))
    def fuzz(body, content_type):
        status, raw = slack_post(assistant, body, content_type)
        assert status < 500, (status, raw[:300], content_type, body[:300])
        processes_alive(assistant)

    fuzz()
    for body in DEEP_BODIES:
        status, raw = slack_post(assistant, body, "application/json")
        assert status < 500, (status, raw[:300], body[:100])
    assert_all_well(assistant)


def test_slack_unsigned_or_badly_signed(assistant, apis):
    api = apis["slack"]

    @settings(FUZZ, max_examples=150)
    @given(event=slack_events(),
           how=st.sampled_from(["unsigned", "wrong-secret", "empty-secret", "old", "future", "garbage-timestamp",
                                "empty-timestamp", "retry-unsigned"]),
           garbage=st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=20))
    def fuzz(event, how, garbage):
        event, channel = event
        body = dumps(event)
        options: Dict[str, Any] = {
            "unsigned": {"sign": False}, "wrong-secret": {"secret": slack.SIGNING_SECRET + "x"},
            "empty-secret": {"secret": ""}, "old": {"timestamp": str(int(time.time()) - 400)},
            "future": {"timestamp": str(int(time.time()) + 400)}, "garbage-timestamp": {"timestamp": garbage or "x"},
            "empty-timestamp": {"timestamp": ""}, "retry-unsigned": {"sign": False, "extra": {"X-Slack-Retry-Num": "1"}},
        }[how]
        status, raw = slack_post(assistant, body, "application/json", **options)
        assert status == 400, (how, status, raw[:300])
        if channel is not None:
            assert not slack.posted(api, channel)
        processes_alive(assistant)

    fuzz()
    assert_all_well(assistant)


# --- the staff app -------------------------------------------------------------------------------

class StaffClient:
    """A signed-in staff member over HTTP, with the session cookie (no redirects followed)."""

    def __init__(self, assistant: Assistant):
        self.base = assistant.settings.staff_url
        self.cookies: Dict[str, str] = {}
        engine = make_engine(assistant.settings.transcripts_url)
        with transaction(make_session_factory(engine)) as session:
            add_user(session, STAFF[0], "admin", STAFF[1])
        engine.dispose()
        _, _, page = self.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.decode()).group(1)
        form = urllib.parse.urlencode({"name": STAFF[0], "password": STAFF[1], "csrf_token": token}).encode()
        status, headers, _ = self.request("POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 302 and "/login" not in headers.get("location", ""), status

    def request(self, method: str, path: str, body: Optional[bytes] = None, headers: Optional[Dict[str, str]] = None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        status, answer_headers, raw = http(self.base + path, method, body, headers)
        cookie = answer_headers.get("set-cookie")
        if cookie:
            name, _, rest = cookie.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        FIGURES["fuzz: staff app requests"] += 1
        return status, answer_headers, raw

    def get(self, path: str):
        return self.request("GET", path)


@pytest.fixture(scope="module")
def staff(assistant):
    return StaffClient(assistant)


def quoted(value: Any) -> str:
    return urllib.parse.quote(str(value), safe="", errors="surrogatepass")


IDS = st.one_of(st.integers(1, 400), st.integers(), st.integers(2**62, 2**80), st.integers(max_value=-1),
                st.sampled_from([0, 2**63 - 1, 2**63, 2**64, "0x10", "1e3", "1.5", "01", " 1", "１"]), ANY_TEXT)
FORMATS = st.sampled_from(["csv", "json", "csv", "json", "xml", "", "CSV", "json/", "csv.json"]) | ANY_TEXT.map(quoted)


def staff_status_ok(status: int, headers: Dict[str, str], raw: bytes, what: Any) -> None:
    assert status < 500, (status, what, raw[:300])
    assert not (status == 302 and "/login" in headers.get("location", "")), ("signed out", what)


def test_staff_pages_with_generated_ids_and_paths(assistant, staff):
    @settings(FUZZ, max_examples=300)
    @given(conversation=IDS, fmt=FORMATS,
           shape=st.sampled_from(["/conversations/{id}", "/conversations/{id}", "/conversations/{id}/export.{fmt}",
                                  "/conversations/export.{fmt}", "/conversations/{id}/{id}", "/admin/{id}", "/{id}",
                                  "/conversations/{id}?back={id}", "/admin/audit?page={id}", "/admin/users?page={id}"]))
    def fuzz(conversation, fmt, shape):
        path = shape.replace("{id}", quoted(conversation)).replace("{fmt}", fmt)
        status, headers, raw = staff.get(path)
        staff_status_ok(status, headers, raw, path)
        processes_alive(assistant)

    fuzz()
    assert_all_well(assistant)


QUERY_KEYS = st.sampled_from(["level", "from", "to", "channel", "reviewed", "q", "page", "page", "back", "format"]) | ANY_TEXT
QUERY_VALUES = st.one_of(
    ANY_TEXT, IDS.map(str),
    st.sampled_from(["emergency", "doctor", "self_care", "undetermined", "none", "yes", "no", "rest", "socketio",
                     "telegram", "slack", "2024-03-01", "2024-02-30", "0000-01-01", "9999-12-31", "10000-01-01",
                     "2024-13-01", "-1", "1" * 30, "%", "_", "*", "' OR 1=1 --"]),
)


def test_staff_list_and_exports_with_generated_query_strings(assistant, staff):
    @settings(FUZZ, max_examples=300)
    @given(pairs=st.lists(st.tuples(QUERY_KEYS, QUERY_VALUES), max_size=6),
           path=st.sampled_from(["/conversations", "/conversations", "/conversations", "/conversations/export.json",
                                 "/conversations/export.csv", "/admin/audit", "/", "/login"]))
    def fuzz(pairs, path):
        query = urllib.parse.urlencode(pairs, errors="surrogatepass")
        status, headers, raw = staff.get(path + "?" + query)
        staff_status_ok(status, headers, raw, (path, pairs))
        processes_alive(assistant)

    fuzz()
    assert_all_well(assistant)
