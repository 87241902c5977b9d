"""``python -m bot.web``: serves the widget page on WEB_HOST:WEB_PORT (what `make run` starts)."""
import logging
import sys

from ..settings import Settings
from .server import serve

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sys.exit(serve(Settings.from_env()))
