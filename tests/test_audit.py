"""bin/audit (`make audit`): reading the lock file, matching an offline database, and never saying
"all clear" when no database could be used. The audit itself runs in .venv-audit, outside `make test`."""
from __future__ import annotations

import importlib.machinery
import importlib.util

from bot.settings import PROJECT_ROOT


def load_audit():
    loader = importlib.machinery.SourceFileLoader("bin_audit", str(PROJECT_ROOT / "bin" / "audit"))
    spec = importlib.util.spec_from_loader("bin_audit", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_the_lock_file_is_read_as_canonical_names_and_versions(tmp_path):
    audit = load_audit()
    lock = tmp_path / "lock.txt"
    lock.write_text("# a comment\nJinja2==2.10\nruamel.yaml==0.17.21  # why\n\nSanic-Cors==2.0.1\n")
    assert audit.locked(lock) == {"jinja2": "2.10", "ruamel-yaml": "0.17.21", "sanic-cors": "2.0.1"}


def test_an_offline_database_entry_matches_only_the_affected_versions():
    audit = load_audit()
    database = {
        "$meta": {"timestamp": 1625119202},
        "Jinja2": [{"id": "pyup.io-1", "cve": "CVE-2020-28493", "specs": [">=0.0.0,<2.11.3"]}],
        "aiohttp": [{"id": "pyup.io-2", "cve": None, "specs": ["<3.7.4", ">=4.0,<4.1"]}],
    }
    found = audit.offline_findings({"jinja2": "2.10", "aiohttp": "3.9.5", "flask": "3.0.3"}, database)
    assert found == [("jinja2", "2.10", "CVE-2020-28493", ">=0.0.0,<2.11.3")]
    assert audit.offline_findings({"aiohttp": "3.7.0"}, database)[0][2] == "pyup.io-2"


def test_with_no_database_it_fails_clearly_instead_of_reporting_nothing_found(tmp_path, capsys, monkeypatch):
    # .venv has neither pip-audit nor safety-db (they live in .venv-audit): the situation of a
    # machine where neither can be used.
    audit = load_audit()
    lock = tmp_path / "lock.txt"
    lock.write_text("requests==2.34.2\n")
    monkeypatch.setattr("sys.argv", ["bin/audit", str(lock)])
    assert audit.main() == 2
    out, err = capsys.readouterr()
    assert "pip-audit could not audit any package" in out
    assert "error: no vulnerability database could be used" in err and "No known vulnerabilities" not in out
