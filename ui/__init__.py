"""The dashboard's Streamlit helpers: shared page set-up, data-set picker, filters, downloads, notices.

Only app.py, pages/ and this package import streamlit; the numbers come from analytics/.
"""

from ui.setup import PAGES, PageContext, cursor, db_key, page

__all__ = ["PAGES", "PageContext", "cursor", "db_key", "page"]
