"""Start the dashboard: `python serve.py [any `streamlit run` option ...]` (what `make run` does).

The same pages as `streamlit run app.py`, with three differences: everything the pages import is imported
first, in this process, before the server accepts a session (see ui/preload.py); garbage is collected on
a timer rather than after every script run, and the memory freed is handed back to the system (so
the process's size follows what it holds, not its busiest moment); and the pages are served through asgi.py, whose responses
forbid other sites to frame the dashboard.
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
    # Before any thread of the server starts (analytics.memory.limit_arenas says why).
    memory.limit_arenas()
    from ui import preload

    preload.load()
    # Streamlit collects garbage after every script run (runner.postScriptGC); a full collection walks
    # every object, and the libraries just imported are most of them (about 0.1 CPU-s a run). They live
    # as long as the process: move them out of the collector's sight.
    gc.collect()
    gc.freeze()
    # Streamlit also collects after every run: a full collection walks every object the sessions hold
    # (about 10 ms a click). Collect on a timer instead (analytics.memory.GarbageTimer).
    memory.GarbageTimer().start()
    keep_to_this_machine()
    from streamlit.web import cli

    cli.main(args=["run", str(APP), "--runner.postScriptGC", "false", *argv], prog_name="streamlit")


def keep_to_this_machine() -> None:
    """Streamlit asks an outside service (checkip.amazonaws.com) for this machine's public address, to print
    an "External URL" and as a last resort when it checks where a browser comes from. The dashboard tells
    no third party it runs: the address is left unknown, as on a network with no outside access (set
    `browser.serverAddress` for the address people use)."""
    from streamlit import net_util

    net_util.get_external_ip = lambda: None


if __name__ == "__main__":
    main(sys.argv[1:])
