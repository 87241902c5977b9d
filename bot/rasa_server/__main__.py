"""``python -m bot.rasa_server ARGS``: Rasa's command line with our changes installed (internals.install)."""
from __future__ import annotations

import sys

from .internals import install


def main() -> None:
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
