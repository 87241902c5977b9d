"""The widget page in Debian's Chromium (started as tests/staff/browser.py starts it), with a request recorder.

The recorder is a script the browser runs in every page before the page's own (DevTools'
Page.addScriptToEvaluateOnNewDocument): it notes each document, every resource the page fetches
(Resource Timing: scripts, styles, fonts, images, XHR) and every WebSocket it opens, in
sessionStorage, so the list survives a reload.
"""
from __future__ import annotations

from pathlib import Path
from typing import List
from urllib.parse import urlsplit

from ..staff.browser import require_chromium, start_chromium, stop_chromium  # noqa: F401 (re-exported)

LOCAL_HOSTS = {"127.0.0.1", "localhost"}
NETWORK_SCHEMES = {"http", "https", "ws", "wss"}  # not data: URLs, which fetch nothing
RECORDER = """
(() => {
  const KEY = "triage-test-requests";
  const keep = (url) => {
    const seen = JSON.parse(sessionStorage.getItem(KEY) || "[]");
    seen.push(String(url));
    sessionStorage.setItem(KEY, JSON.stringify(seen));
  };
  keep(location.href);
  new PerformanceObserver((list) => list.getEntries().forEach((e) => keep(e.name)))
    .observe({type: "resource", buffered: true});
  const NativeWebSocket = window.WebSocket;
  function RecordedWebSocket(url, protocols) {
    keep(url);
    return protocols === undefined ? new NativeWebSocket(url) : new NativeWebSocket(url, protocols);
  }
  RecordedWebSocket.prototype = NativeWebSocket.prototype;
  ["CONNECTING", "OPEN", "CLOSING", "CLOSED"].forEach((k) => { RecordedWebSocket[k] = NativeWebSocket[k]; });
  window.WebSocket = RecordedWebSocket;
})();
"""


def start_recording_chromium(downloads: Path):
    driver = start_chromium(downloads)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORDER})
    return driver


def requested_urls(driver) -> List[str]:
    """Every URL the pages of this origin requested in this tab, reloads included."""
    return driver.execute_script("return JSON.parse(sessionStorage.getItem('triage-test-requests') || '[]')")


def outside_requests(urls: List[str]) -> List[str]:
    network = [u for u in urls if urlsplit(u).scheme in NETWORK_SCHEMES]
    return [u for u in network if urlsplit(u).hostname not in LOCAL_HOSTS]
