"""A "Copy link" button: copies the page's address, whose query parameters hold the view's state.

The address is read in the browser once the click's moment has passed and any run it started (or one
going on) is over, so it is exactly what the URL bar shows of the view on screen (Streamlit writes the
state into it at the end of every run). Where the clipboard is not available
(a plain-http address other than localhost), the link is shown selected for copying by hand.
"""

from __future__ import annotations

import streamlit as st

_HTML = """
<div class="cl-copy">
  <button type="button" class="cl-copy-button" data-testid="copy-link-button">Copy link</button>
  <span class="cl-copy-done" aria-live="polite"></span>
  <input class="cl-copy-url" type="text" readonly hidden aria-label="Link to this view">
</div>
"""

_CSS = """
.cl-copy { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem; font-family: var(--st-font); }
.cl-copy-button {
  font: inherit; font-size: 0.9rem; padding: 0.3rem 0.75rem; border-radius: 0.5rem; cursor: pointer;
  border: 1px solid var(--st-border-color, rgba(49, 51, 63, 0.2));
  background: var(--st-secondary-background-color, #f0f2f6); color: var(--st-text-color, inherit);
}
.cl-copy-button:hover { border-color: var(--st-primary-color, #ff4b4b); color: var(--st-primary-color, #ff4b4b); }
.cl-copy-done { font-size: 0.85rem; opacity: 0.8; }
.cl-copy-url { width: 100%; font-size: 0.8rem; }
"""

_JS = """
export default function (component) {
  const root = component.parentElement;
  const button = root.querySelector('.cl-copy-button');
  const done = root.querySelector('.cl-copy-done');
  const field = root.querySelector('.cl-copy-url');
  const copied = () => { done.textContent = 'Link copied'; setTimeout(() => { done.textContent = ''; }, 4000); };
  const byHand = (url) => {
    field.hidden = false; field.value = url; field.focus(); field.select();
    done.textContent = 'Copy this link:';
  };
  // A change made just before the click (a filter picked, a field left by this very click) starts a run, and
  // the view reaches the address only when that run ends: wait for it, so the link is of what is on screen.
  const pause = (ms) => new Promise((done) => setTimeout(done, ms));
  const running = () => {
    const app = document.querySelector('[data-testid="stApp"]');
    return !!app && !!app.dataset.testScriptState && app.dataset.testScriptState !== 'notRunning';
  };
  button.onclick = async () => {
    await pause(150);
    // The clipboard takes a write within a few seconds of the click: wait no longer than that.
    for (let waited = 0; running() && waited < 3000; waited += 50) await pause(50);
    await pause(50);
    const url = window.location.href;
    button.dataset.url = url;
    try {
      await navigator.clipboard.writeText(url);
      copied();
    } catch (e) {
      byHand(url);
    }
  };
}
"""

_component = st.components.v2.component("cancellation_lab_copy_link", html=_HTML, css=_CSS, js=_JS)
# The same button beside a data set's link on the Data page (its own test id: a page may show both).
_dataset_component = st.components.v2.component(
    "cancellation_lab_copy_dataset_link",
    html=_HTML.replace('data-testid="copy-link-button">Copy link', 'data-testid="copy-dataset-link-button">Copy this link'),
    css=_CSS, js=_JS)


def copy_link_button() -> None:
    """Draw the button (once per page, in the sidebar)."""
    _component(key="copy_link")


def copy_dataset_link_button() -> None:
    """A copy button for the address bar's link on the Data page, which names the chosen data set."""
    _dataset_component(key="copy_dataset_link")
