"""The language layer. spaCy comes in here without TensorFlow.

thinc (under spaCy) imports TensorFlow on its first import when it is installed (Rasa brings it),
only to offer layers we never use: about 430 MB resident in the action server and the command line,
which use nothing else of it. TensorFlow is hidden from that one import only; where a process has
it loaded already (the Rasa server) nothing changes, and a later ``import tensorflow`` works.
"""
import sys


def _import_thinc_without_tensorflow() -> None:
    if "thinc.compat" in sys.modules or "tensorflow" in sys.modules:
        return
    sys.modules["tensorflow"] = None  # type: ignore[assignment]  # makes `import tensorflow` fail
    try:
        import thinc.compat  # noqa: F401
    finally:
        if sys.modules.get("tensorflow", 0) is None:
            del sys.modules["tensorflow"]


_import_thinc_without_tensorflow()
