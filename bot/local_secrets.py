"""Secrets that `make run` keeps in the data folder when the environment does not set them.

PSEUDONYM_KEY and STAFF_SECRET_KEY have no default. For a local run, the first start generates
each into data_dir/secrets/ (mode 0600) and every later start reuses it; an environment
variable always wins. Losing pseudonym.key means new pseudonyms for returning senders, and
erasing by sender id then no longer finds their older conversations: back it up with the data.

In production (APP_ENV=production) none of this happens: secrets come only from the
environment, and `production_secrets_error` says which are missing so nothing starts without them.
"""
from __future__ import annotations

import dataclasses
import os
import secrets
from pathlib import Path
from typing import Optional

from .settings import Settings

PSEUDONYM_KEY_FILE = "pseudonym.key"
STAFF_SECRET_FILE = "staff_secret.key"


def secrets_dir(settings: Settings) -> Path:
    return Path(settings.data_dir) / "secrets"


def _create_once(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        # O_EXCL: two processes starting at once cannot both write a different key.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_hex(32))


def _read_or_create(path: Path, create: bool) -> Optional[str]:
    if create:
        _create_once(path)
    if not path.exists():
        return None
    value = path.read_text(encoding="utf-8").strip()
    if not value:
        raise RuntimeError(f"{path} is empty: delete it to generate a new secret, or restore it from a backup")
    return value


def with_local_secrets(settings: Settings, create: bool) -> Settings:
    """The settings with each unset secret filled from the data folder.

    create=True (make run): generate the secrets that are not there yet. create=False (the
    staff commands): only read them, because a freshly made pseudonym key would match no one.
    """
    if settings.production:
        return settings  # secrets only from the environment: a file on disk is not a secret store
    directory = secrets_dir(settings)
    return dataclasses.replace(
        settings,
        pseudonym_key=settings.pseudonym_key or _read_or_create(directory / PSEUDONYM_KEY_FILE, create),
        staff_secret_key=settings.staff_secret_key or _read_or_create(directory / STAFF_SECRET_FILE, create),
    )


def production_secrets_error(settings: Settings) -> Optional[str]:
    """Why this process must not start (production without its secrets), or None."""
    missing = settings.missing_secrets() if settings.production else ()
    if not missing:
        return None
    return (
        f"APP_ENV=production and {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set. "
        "In production secrets come only from the environment (none is generated or read from the data "
        "folder): set each to a long random value, e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`."
    )
