"""The dashboard's Streamlit helpers: shared page set-up, data-set picker, filters, downloads, notices.

Only app.py, pages/ and this package import streamlit; the numbers come from analytics/.
"""

from ui import preload

# `python serve.py` has done this before the server started; under a plain `streamlit run app.py` the
# first session does it while the others wait on this package's import (see ui/preload.py).
preload.load()

from ui.database import cursor, db_key  # noqa: E402
from ui.setup import PAGES, PageContext, page, stop_page  # noqa: E402

__all__ = ["PAGES", "PageContext", "cursor", "db_key", "page", "stop_page"]
