"""The one place that reads environment variables. Documented in README.md and .env.example.

Nothing here opens a connection or a file: ``Settings.from_env()`` only reads values,
and callers decide when to use them.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional, Tuple, overload

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """An environment variable has a value we cannot use."""


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "")
    if not raw:
        return default
    try:
        port = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a port number, got {raw!r}") from None
    if not 0 < port < 65536:
        raise SettingsError(f"{name} must be between 1 and 65535, got {port}")
    return port


MIN_SECRET_LENGTH = 16


@overload
def _whole_number(env: Mapping[str, str], name: str, default: int) -> int: ...
@overload
def _whole_number(env: Mapping[str, str], name: str, default: None) -> Optional[int]: ...
def _whole_number(env: Mapping[str, str], name: str, default: Optional[int]) -> Optional[int]:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise SettingsError(f"{name} must be a whole number of at least 1, got {raw!r}")
    return int(raw)


def _secret(env: Mapping[str, str], name: str) -> Optional[str]:
    """A secret has no default; when set it must be long enough to be worth keeping secret."""
    value = env.get(name, "").strip()
    if value and len(value) < MIN_SECRET_LENGTH:
        raise SettingsError(f"{name} must be at least {MIN_SECRET_LENGTH} characters long")
    return value or None


def _origins(env: Mapping[str, str], name: str) -> Tuple[str, ...]:
    """A comma-separated list of origins such as https://clinic.example (scheme, host, optional port)."""
    origins = tuple(o.strip().rstrip("/") for o in env.get(name, "").split(",") if o.strip())
    for origin in origins:
        scheme, _, rest = origin.partition("://")
        if scheme not in ("http", "https") or not rest or "/" in rest:
            raise SettingsError(f"{name} must list origins such as https://clinic.example, got {origin!r}")
    return origins


def _lock_store_url(env: Mapping[str, str], name: str) -> Optional[str]:
    """redis://[:password@]host[:port][/db] (rediss:// for TLS); may hold a password, so never echoed."""
    value = env.get(name, "").strip()
    if value and value.partition("://")[0] not in ("redis", "rediss"):
        raise SettingsError(f"{name} must be a redis:// or rediss:// URL")
    return value or None


def _instance_name(env: Mapping[str, str], name: str) -> Optional[str]:
    """Names a folder of the data dir, so only letters, digits, _ and - (at most 64)."""
    value = env.get(name, "").strip()
    if value and (len(value) > 64 or not all(ch.isascii() and (ch.isalnum() or ch in "_-") for ch in value)):
        raise SettingsError(f"{name} may hold only letters, digits, _ and - (at most 64), got {value!r}")
    return value or None


def _telegram_secret(env: Mapping[str, str], name: str) -> Optional[str]:
    """Telegram accepts 1-256 characters A-Z, a-z, 0-9, _ and - as a webhook secret token."""
    value = _secret(env, name)
    if value and (len(value) > 256 or not all(ch.isascii() and (ch.isalnum() or ch in "_-") for ch in value)):
        raise SettingsError(f"{name} may hold only letters, digits, _ and - (at most 256)")
    return value


ENVIRONMENTS = ("development", "production")


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in ("true", "false", "1", "0", "yes", "no"):
        raise SettingsError(f"{name} must be true or false, got {raw!r}")
    return raw in ("true", "1", "yes")


def _app_env(env: Mapping[str, str]) -> str:
    value = env.get("APP_ENV", "").strip().lower() or "development"
    if value not in ENVIRONMENTS:
        raise SettingsError(f"APP_ENV must be one of {', '.join(ENVIRONMENTS)}, got {value!r}")
    return value


def _secure_cookies(env: Mapping[str, str]) -> bool:
    """On in production, whatever else is said; elsewhere STAFF_SECURE_COOKIES (behind an HTTPS proxy)."""
    if _app_env(env) == "production":
        if not _flag(env, "STAFF_SECURE_COOKIES", True):
            raise SettingsError("STAFF_SECURE_COOKIES cannot be false with APP_ENV=production: serve the staff app over HTTPS")
        return True
    return _flag(env, "STAFF_SECURE_COOKIES", False)


@dataclass(frozen=True)
class Settings:
    emergency_number: str = "911"
    rasa_host: str = "127.0.0.1"
    rasa_port: int = 5005
    action_host: str = "127.0.0.1"
    action_port: int = 5055
    data_dir: Path = PROJECT_ROOT / "var"
    model_path: Path = PROJECT_ROOT / "models"
    tracker_db: Optional[Path] = None  # default: data_dir / "tracker.db"
    # Transcripts and the staff review app. The two secrets have no default: `make run`
    # generates them into data_dir/secrets (bot/local_secrets.py) when they are unset.
    database_url: Optional[str] = field(default=None, repr=False)  # may hold a password; default: SQLite in data_dir
    pseudonym_key: Optional[str] = field(default=None, repr=False)  # repr=False: never printed or logged
    staff_secret_key: Optional[str] = field(default=None, repr=False)
    staff_host: str = "127.0.0.1"
    staff_port: int = 5080
    staff_session_minutes: int = 30
    staff_max_failed_logins: int = 5
    staff_lockout_minutes: int = 15
    retention_days: Optional[int] = None  # unset: transcripts are kept until purged by hand
    purge_every_hours: Optional[int] = None  # with retention_days: the staff app purges on this schedule
    # The website chat widget (bot/web) and the origins allowed to open Rasa's socket.io channel.
    web_host: str = "127.0.0.1"
    web_port: int = 5070
    allowed_origins_setting: Tuple[str, ...] = ()  # empty: only the widget page's own origin
    # Telegram (bot/channels/telegram.py): on only with a token, a webhook secret and the bot's username.
    telegram_token: Optional[str] = field(default=None, repr=False)
    telegram_webhook_secret: Optional[str] = field(default=None, repr=False)
    telegram_bot_username: Optional[str] = None
    telegram_webhook_url: Optional[str] = None  # the public HTTPS address of /webhooks/telegram/webhook
    telegram_api_url: str = "https://api.telegram.org"
    # Slack (bot/channels/slack.py): on only with a bot token and the app's signing secret.
    slack_token: Optional[str] = field(default=None, repr=False)
    slack_signing_secret: Optional[str] = field(default=None, repr=False)
    slack_api_url: str = "https://slack.com/api/"
    # Faults and abuse (bot/rasa_server, bot/channels/guard.py).
    action_timeout_s: float = 10.0  # Rasa's own default is 300 s
    rate_limit_per_minute: int = 60  # messages one sender may send in a minute
    rasa_api_token: Optional[str] = field(default=None, repr=False)  # unset: Rasa's HTTP API is off
    max_request_bytes: int = 256 * 1024  # a REST or socket.io body; larger gets HTTP 413
    concurrent_messages: int = 4  # messages in the Rasa server at once; the others wait their turn
    busy_after_s: float = 3.0  # a message still waiting then gets the "busy" answer
    # APP_ENV=production: secrets only from the environment (none generated or read from the
    # data folder), nothing starts without them, and the staff cookie is Secure.
    app_env: str = "development"
    staff_secure_cookies: bool = False  # STAFF_SECURE_COOKIES; always on in production
    # Several Rasa servers (README "Running several Rasa servers"): Rasa's events in a shared SQL
    # database, conversation locks in a shared Redis, and a name per server for its own spool.
    tracker_store_url: Optional[str] = field(default=None, repr=False)  # may hold a password; default: SQLite tracker_db
    lock_store_url: Optional[str] = field(default=None, repr=False)  # unset: Rasa's in-memory locks (one server only)
    instance_name: Optional[str] = None

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "Settings":
        env = os.environ if env is None else env
        data_dir = Path(env.get("TRIAGE_DATA_DIR") or cls.data_dir)
        number = env.get("EMERGENCY_NUMBER", cls.emergency_number).strip()
        if not number or not all(ch.isdigit() or ch in "+ -" for ch in number):
            raise SettingsError(f"EMERGENCY_NUMBER must be a phone number such as 911 or 112, got {number!r}")
        return cls(
            emergency_number=number,
            rasa_host=env.get("RASA_HOST") or cls.rasa_host,
            rasa_port=_port(env, "RASA_PORT", cls.rasa_port),
            action_host=env.get("ACTION_SERVER_HOST") or cls.action_host,
            action_port=_port(env, "ACTION_SERVER_PORT", cls.action_port),
            data_dir=data_dir,
            model_path=Path(env.get("RASA_MODEL") or cls.model_path),
            tracker_db=Path(env["TRACKER_DB"]) if env.get("TRACKER_DB") else data_dir / "tracker.db",
            database_url=env.get("DATABASE_URL") or None,
            pseudonym_key=_secret(env, "PSEUDONYM_KEY"),
            staff_secret_key=_secret(env, "STAFF_SECRET_KEY"),
            staff_host=env.get("STAFF_HOST") or cls.staff_host,
            staff_port=_port(env, "STAFF_PORT", cls.staff_port),
            staff_session_minutes=_whole_number(env, "STAFF_SESSION_MINUTES", cls.staff_session_minutes),
            staff_max_failed_logins=_whole_number(env, "STAFF_MAX_FAILED_LOGINS", cls.staff_max_failed_logins),
            staff_lockout_minutes=_whole_number(env, "STAFF_LOCKOUT_MINUTES", cls.staff_lockout_minutes),
            retention_days=_whole_number(env, "RETENTION_DAYS", None),
            purge_every_hours=_whole_number(env, "PURGE_EVERY_HOURS", None),
            web_host=env.get("WEB_HOST") or cls.web_host,
            web_port=_port(env, "WEB_PORT", cls.web_port),
            allowed_origins_setting=_origins(env, "ALLOWED_ORIGINS"),
            telegram_token=env.get("TELEGRAM_TOKEN", "").strip() or None,
            telegram_webhook_secret=_telegram_secret(env, "TELEGRAM_WEBHOOK_SECRET"),
            telegram_bot_username=env.get("TELEGRAM_BOT_USERNAME", "").strip().lstrip("@") or None,
            telegram_webhook_url=env.get("TELEGRAM_WEBHOOK_URL", "").strip() or None,
            telegram_api_url=(env.get("TELEGRAM_API_URL", "").strip() or cls.telegram_api_url).rstrip("/"),
            slack_token=env.get("SLACK_TOKEN", "").strip() or None,
            slack_signing_secret=_secret(env, "SLACK_SIGNING_SECRET"),
            slack_api_url=env.get("SLACK_API_URL", "").strip() or cls.slack_api_url,
            action_timeout_s=float(_whole_number(env, "ACTION_TIMEOUT_S", int(cls.action_timeout_s))),
            rate_limit_per_minute=_whole_number(env, "RATE_LIMIT_PER_MINUTE", cls.rate_limit_per_minute),
            rasa_api_token=_secret(env, "RASA_API_TOKEN"),
            max_request_bytes=_whole_number(env, "MAX_REQUEST_BYTES", cls.max_request_bytes),
            concurrent_messages=_whole_number(env, "CONCURRENT_MESSAGES", cls.concurrent_messages),
            busy_after_s=float(_whole_number(env, "BUSY_AFTER_S", int(cls.busy_after_s))),
            app_env=_app_env(env),
            staff_secure_cookies=_secure_cookies(env),
            tracker_store_url=env.get("TRACKER_STORE_URL", "").strip() or None,
            lock_store_url=_lock_store_url(env, "LOCK_STORE_URL"),
            instance_name=_instance_name(env, "INSTANCE_NAME"),
        )

    @property
    def production(self) -> bool:
        return self.app_env == "production"

    def missing_secrets(self) -> Tuple[str, ...]:
        """The secrets every process needs in production and that are not set."""
        needed = (("PSEUDONYM_KEY", self.pseudonym_key), ("STAFF_SECRET_KEY", self.staff_secret_key))
        return tuple(name for name, value in needed if not value)

    @property
    def rasa_url(self) -> str:
        return f"http://{self.rasa_host}:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://{self.action_host}:{self.action_port}/webhook"

    @property
    def transcripts_url(self) -> str:
        """The SQLAlchemy URL of the transcript database (DATABASE_URL, else SQLite in data_dir)."""
        return self.database_url or f"sqlite:///{(Path(self.data_dir) / 'transcripts.db').resolve()}"

    @property
    def instance_dir(self) -> Path:
        """This Rasa server's own files (spool, effective endpoints): data_dir/instances/NAME with INSTANCE_NAME."""
        return Path(self.data_dir) / "instances" / self.instance_name if self.instance_name else Path(self.data_dir)

    @property
    def transcript_spool(self) -> Path:
        """Where transcripts wait, durably, while their database is unavailable (one spool per Rasa server)."""
        return self.instance_dir / "transcripts-spool.jsonl"  # bot.store.spool.spools_in finds them all

    @property
    def staff_url(self) -> str:
        return f"http://{self.staff_host}:{self.staff_port}"

    @property
    def web_url(self) -> str:
        return f"http://{self.web_host}:{self.web_port}"

    @property
    def allowed_origins(self) -> Tuple[str, ...]:
        """Origins whose pages may open the socket.io channel: ALLOWED_ORIGINS, else the widget page's own."""
        return self.allowed_origins_setting or (self.web_url, f"http://localhost:{self.web_port}")

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_token and self.telegram_webhook_secret and self.telegram_bot_username)

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_token and self.slack_signing_secret)
