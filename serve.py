"""Start the dashboard: `python serve.py [any `streamlit run` option ...]` (what `make run` does).

The same pages as `streamlit run app.py`, with two differences: everything the pages import is imported
first, in this process, before the server accepts a session (see ui/preload.py); and the pages are
served through asgi.py, whose responses forbid other sites to frame the dashboard.
"""

import gc
import sys
from pathlib import Path

APP = Path(__file__).resolve().parent / "asgi.py"


def main(argv: list[str]) -> None:
    from analytics import memory

    try:
        memory.whatif_limits()
        memory.resident_limits()
    except ValueError as e:
        sys.exit(f"serve.py: {e}")
    from ui import preload

    preload.load()
    # Streamlit collects garbage after every script run (runner.postScriptGC); a full collection walks
    # every object, and the libraries just imported are most of them (about 0.1 CPU-s a run). They live
    # as long as the process: move them out of the collector's sight.
    gc.collect()
    gc.freeze()
    from streamlit.web import cli

    cli.main(args=["run", str(APP), *argv], prog_name="streamlit")


if __name__ == "__main__":
    main(sys.argv[1:])
