"""One process of a deployment with several Rasa servers: ``python -m bot.instance rasa|actions``.

``python -m bot.serve`` starts everything on one machine. A deployment that runs several Rasa
servers behind a load balancer (README "Running several Rasa servers", deploy/Procfile) starts
each process on its own, configured by the same environment variables: ``rasa`` is one Rasa
server (writes its effective endpoints and credentials files into its own folder, then becomes
``rasa run``), ``actions`` is one action server. Neither migrates the transcript database: run
``python -m bot.store migrate`` once before starting them, so that servers do not race to do it.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional

from .local_secrets import with_local_secrets
from .processes import keep_files_private
from .serve import actions_command, rasa_env, rasa_server_command
from .settings import PROJECT_ROOT, Settings


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.instance", description=__doc__.splitlines()[0])
    parser.add_argument("process", choices=["rasa", "actions"])
    args = parser.parse_args(argv)
    # Secrets from the environment (or, on one machine, the data folder's); never made here, because
    # every server must use the same PSEUDONYM_KEY.
    settings = with_local_secrets(Settings.from_env(), create=False)
    keep_files_private(settings.data_dir)
    command = rasa_server_command(settings) if args.process == "rasa" else actions_command(settings)
    os.chdir(PROJECT_ROOT)
    sys.stdout.flush()
    # exec: the process manager's signals (SIGTERM on stop) reach Rasa itself.
    os.execve(command[0], command, rasa_env(settings))
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main())
