"""Start the dashboard: `python serve.py [any `streamlit run` option ...]` (what `make run` does).

The same as `streamlit run app.py`, except that everything the pages import is imported first, in
this process, before the server accepts a session (see ui/preload.py).
"""

import sys
from pathlib import Path

APP = Path(__file__).resolve().parent / "app.py"


def main(argv: list[str]) -> None:
    from analytics import memory

    try:
        memory.whatif_limits()
    except ValueError as e:
        sys.exit(f"serve.py: {e}")
    from ui import preload

    preload.load()
    from streamlit.web import cli

    cli.main(args=["run", str(APP), *argv], prog_name="streamlit")


if __name__ == "__main__":
    main(sys.argv[1:])
