"""Reading our YAML data files strictly: a typo in a key is an error that names the place."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Type

import yaml


def read_yaml(path: Path, error: Type[Exception] = ValueError) -> object:
    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except OSError as failure:
        raise error(f"{path}: cannot read: {failure}") from failure
    except yaml.YAMLError as failure:
        raise error(f"{path}: not valid YAML: {failure}") from failure


def check_keys(
    data: object, allowed: set, where: str, required: Iterable[str] = (), error: Type[Exception] = ValueError
) -> dict:
    """``data`` as a mapping whose keys are all allowed and include the required ones."""
    if not isinstance(data, dict):
        raise error(f"{where}: expected a mapping, got {type(data).__name__}")
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise error(f"{where}: unknown key(s) {unknown}; allowed: {sorted(allowed)}")
    missing = sorted(set(required) - set(data))
    if missing:
        raise error(f"{where}: missing key(s) {missing}")
    return data
