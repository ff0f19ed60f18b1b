"""Hostile text in a file, a data set's name and a link is shown as text, and no page reaches another host.

An attacker's file names its payment method, seller, reason and a column with Markdown links and images,
HTML and **bold** pointing at a listener this test starts on another port; the data set is named the same
way, and a link carries a parameter whose NAME holds a Markdown link. Every page is opened in Chromium
served the deployed way (serve.py), and every request the browser makes is recorded.
"""

from __future__ import annotations

import http.server
import threading
import urllib.parse
import urllib.request

import browser_support as bs

from analytics.charts import plain
from analytics.policy import channel_name
from tests.conftest import SAMPLE_CSV

pytestmark = bs.browser_test

BOLD_WORDS = ("namebold", "pmbold", "sellerbold", "reasonbold", "colbold", "filebold")


class Listener:
    """An HTTP server on a free loopback port that records every request it gets (it must get none)."""

    def __init__(self):
        hits = self.hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the standard library's name
                hits.append(self.path)
                self.send_response(200)
                self.end_headers()

            do_POST = do_GET  # noqa: N815

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", bs.free_port()), Handler)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def _hostile_file(folder, host: str):
    """The 20-order sample with hostile labels; returns (path, the normalised payment label, a seller id)."""
    method = f"![pm](http://{host}/pm.png) **pmbold** [pl](http://{host}/pl) <img src=x onerror=alert(1)>"
    seller = f"SEL-A **sellerbold** [sl](http://{host}/seller)"
    reason = f"wrong **reasonbold** ![r](http://{host}/r.png) <b>html</b>"
    column = f"![c](http://{host}/col.png) **colbold** <img src=http://{host}/colimg.png>"
    lines = SAMPLE_CSV.read_text().splitlines()
    out = [lines[0] + ',"' + column + '"']
    for line in lines[1:]:
        line = line.replace(",card,", f',"{method}",').replace(",SEL-A,", f',"{seller}",')
        out.append(line.replace(",wrong_item,", f',"{reason}",') + ",")
    # A file name holds no '/': an autolink and an image with 'http:host' still make a URL of it.
    path = folder / f"**filebold** <http:{host}> ![f](http:{host}).csv"
    path.write_text("\n".join(out) + "\n")
    return path, "_".join(method.lower().split()), seller


def _check(page, where: str, host: str, dialogs: list) -> str:
    """What must hold on every page; returns the page's text."""
    bs.wait_ready(page, 90_000)
    text = page.inner_text("body")
    assert "Traceback" not in text, where
    assert page.query_selector_all('[data-testid="stException"]') == [], where
    urls = page.eval_on_selector_all("[href], [src]", "els => els.map(e => e.href || e.src || '')")
    assert not [u for u in urls if host in u], (where, urls)
    # The page may set a name in bold; the data's own **word** must not become bold (its asterisks stay).
    bold = page.eval_on_selector_all("strong, b", "els => els.map(e => e.innerText)")
    assert not [b for b in bold if any(w in b and f"**{w}**" not in b for w in BOLD_WORDS)], (where, bold)
    assert dialogs == [], where
    return text


def test_hostile_names_and_labels_render_as_text_and_reach_no_other_host(tmp_path):
    bs.make_demo_db(tmp_path / "app.duckdb", orders=2_000)
    with Listener() as listener, \
            bs.app_server(tmp_path / "app.duckdb", tmp_path / "app.log", script="serve.py") as server, \
            bs.chromium() as browser:
        host = listener.host
        # At most 120 characters, the name box's limit.
        name = f"Shop **namebold** [phish](http://{host}/l) ![px](http://{host}/p.png) <img src=x onerror=alert(2)>"
        assert len(name) <= 120
        path, method, seller = _hostile_file(tmp_path, host)
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        requests, dialogs = [], []
        page.on("request", lambda r: requests.append(r.url))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

        # Upload and import through the Data page, naming the data set as an attacker would.
        page.goto(f"{server.url}/Data")
        bs.wait_ready(page)
        bs.choose_upload(page, path)
        text = _check(page, "upload", host, dialogs)
        assert "**filebold**" in text and "**colbold**" in text  # the file's and the column's names, as text
        box = page.get_by_label("Data set name")
        box.fill(name)
        box.press("Tab")
        bs.wait_ready(page)
        assert box.input_value() == name
        page.get_by_role("button", name="Import").click()
        try:
            page.get_by_text("Stored Shop").wait_for(timeout=60_000)
        finally:
            bs.screenshot(page, "hostile-import")
        text = _check(page, "imported", host, dialogs)
        assert "Stored Shop **namebold** [phish]" in text.replace("\u2060", "")
        dataset_id = urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)["dataset"][0]

        hostile_name = f"a`[Click to re-login](http://{host}/login)` "
        links = {
            "overview": "/",
            "overview, filtered by the hostile method": f"/?payment={urllib.parse.quote(method)}",
            "reasons, filtered by the hostile seller": f"/Reasons?seller={urllib.parse.quote(seller)}",
            "reasons": "/Reasons",
            "refunds": "/Refunds",
            "sellers": f"/Sellers?q={urllib.parse.quote('sellerbold')}",
            "what-if": "/What-if",
            "data": "/Data",
            "a hostile parameter name": f"/?{urllib.parse.quote(hostile_name)}=1",
            "a hostile filter value": f"/Reasons?focus={urllib.parse.quote('**x** [y](http://' + host + '/z)')}",
        }
        for where, link in links.items():
            sep = "&" if "?" in link else "?"
            page.goto(f"{server.url}{link}{sep}dataset={dataset_id}")
            text = _check(page, where, host, dialogs).replace("\u2060", "")
            bs.screenshot(page, f"hostile-{where}")
            if where.startswith("overview"):
                assert "Shop **namebold** [phish](http://" in text  # the name, shown as the text it is
            if where == "overview, filtered by the hostile method":
                # In words as every label is (charts.plain), and still the text it is: nothing interpreted.
                assert f"Orders paid by {plain(method)}." in text
            if where == "a hostile parameter name":
                # Quoted as text (and cut short): no link in the app's own warning box.
                assert "Unknown link parameter “a`[Click to re-login](http://127.0.0.1:" in text and "ignored" in text
            if where == "what-if":
                # The hostile method has its own refund-channel control, and the page replays (no error).
                assert "cannot be replayed" not in text
                page.get_by_text("Refund channels and times").click()
                text = _check(page, "what-if, refund channels open", host, dialogs).replace("\u2060", "")
                assert f"{plain(method)} refunds" in text
                bs.screenshot(page, "hostile-what-if-refund-channels")

        # The What-if control for the hostile method: a refund-channel change reaches the link.
        page.goto(f"{server.url}/What-if?dataset={dataset_id}&{urllib.parse.quote(channel_name(method))}=wallet")
        text = _check(page, "what-if with the hostile method moved", host, dialogs)
        assert "cannot be replayed" not in text and "could not be used" not in text

        assert listener.hits == []
        outside = [u for u in requests if not (u.startswith(server.url + "/") or u.startswith(f"blob:{server.url}/")
                                               or u.startswith("data:"))]
        assert outside == [], outside
        assert len(requests) > 50  # the recording did see the pages load
        assert "Traceback" not in server.log_text()


def test_responses_forbid_framing_and_a_framed_page_stays_blank(tmp_path):
    bs.make_demo_db(tmp_path / "app.duckdb", orders=2_000)
    with bs.app_server(tmp_path / "app.duckdb", tmp_path / "app.log", script="serve.py") as server, \
            bs.chromium() as browser:
        for path in ("/", "/What-if", "/_stcore/health"):
            with urllib.request.urlopen(server.url + path, timeout=10) as r:
                assert r.headers["X-Frame-Options"] == "DENY"
                assert r.headers["Content-Security-Policy"] == "frame-ancestors 'none'"
        page = browser.new_page()
        page.set_content(f'<iframe id="f" src="{server.url}/" width="800" height="600"></iframe>')
        page.wait_for_timeout(3_000)
        frame = page.frame_locator("#f")
        # Chromium refuses to draw the dashboard inside another page: no Streamlit app in the frame.
        assert frame.locator('[data-testid="stApp"]').count() == 0
        # The same address opened directly draws the app.
        page.goto(server.url + "/")
        page.wait_for_selector('[data-testid="stApp"]')


def test_no_page_of_the_plain_app_requests_another_host(tmp_path):
    """`streamlit run app.py` too: no font, icon or statistics request leaves the app."""
    bs.make_demo_db(tmp_path / "app.duckdb", orders=2_000)
    with bs.app_server(tmp_path / "app.duckdb", tmp_path / "app.log", script="app.py") as server, \
            bs.chromium() as browser:
        page = browser.new_page()
        requests = []
        page.on("request", lambda r: requests.append(r.url))
        for path in ("/", "/Reasons", "/Refunds", "/Sellers", "/What-if", "/Data"):
            page.goto(server.url + path)
            bs.wait_ready(page, 90_000)
        outside = [u for u in requests if not (u.startswith(server.url + "/") or u.startswith(f"blob:{server.url}/")
                                               or u.startswith("data:"))]
        assert outside == [] and len(requests) > 50, outside
