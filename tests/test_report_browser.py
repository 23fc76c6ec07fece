"""The HTML report in headless Chromium: every chart drawn, nothing fetched, no console error.

Chromium is driven over the DevTools protocol (a websocket): the page is
loaded from a file, the test reads the boxes of the SVG charts and the
number of bars, cells and points, records every request the page makes and
every console message, and saves screenshots (light, dark, a phone's width).
Set TRACKER_SCREENSHOTS=DIR to keep them. CI installs Debian's chromium and
sets TRACKER_EXPECT_CHROMIUM=1, so there a missing browser fails the test.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from report_support import NOW, at, history_store

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--remote-debugging-port=0",
    "--remote-allow-origins=*",
]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("TRACKER_EXPECT_CHROMIUM") == "1":
            pytest.fail("chromium is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return found


class DevTools:
    """A minimal DevTools-protocol session on one page: commands and the events between them."""

    def __init__(self, url: str) -> None:
        import websocket

        self.socket = websocket.create_connection(url, timeout=30)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, method: str, since: int = 0, timeout: float = 30) -> None:
        """Until an event ``method`` arrives (after the first ``since`` events)."""
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events[since:]):
            if time.monotonic() > deadline:
                raise AssertionError(f"no {method} within {timeout} s")
            self.events.append(json.loads(self.socket.recv()))

    def close(self) -> None:
        self.socket.close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[DevTools]:
    binary = chromium()
    process = subprocess.Popen(
        [binary, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = None
        deadline = time.monotonic() + 60
        assert process.stderr is not None
        while port is None and time.monotonic() < deadline:
            line = process.stderr.readline()
            if not line and process.poll() is not None:
                raise AssertionError("chromium exited before it listened")
            match = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
            if match:
                port = int(match.group(1))
        assert port is not None, "chromium did not say where it listens"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as reply:
            pages = [t for t in json.load(reply) if t["type"] == "page"]
        session = DevTools(pages[0]["webSocketDebuggerUrl"])
        yield session
        session.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def history(tracker_env: Path):  # noqa: ANN201 - a tracker.store.Store
    yield from history_store(tracker_env)


MEASURE = """
JSON.stringify([...document.querySelectorAll('svg.chart')].map(svg => {
  const box = svg.getBoundingClientRect();
  const drawn = [...svg.querySelectorAll('rect, circle, path')].filter(e => {
    const b = e.getBBox(); return b.width > 0 || b.height > 0;
  }).length;
  return {
    chart: svg.dataset.chart, width: box.width, height: box.height, drawn: drawn,
    bars: svg.querySelectorAll('rect.bar.day').length,
    backlog: svg.querySelectorAll('rect.bar.backlog').length,
    done: svg.querySelectorAll('rect.bar.done').length,
    cells: svg.querySelectorAll('rect.cell').length,
    titled_cells: svg.querySelectorAll('rect.cell > title').length,
    points: svg.querySelectorAll('circle.point').length,
    lines: svg.querySelectorAll('path.average').length,
  };
}))
"""


def shoot(page: DevTools, path: Path) -> bytes:
    metrics = page.call("Page.getLayoutMetrics")["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": metrics["width"], "height": metrics["height"], "scale": 1}
    shot = page.call("Page.captureScreenshot", format="png", captureBeyondViewport=True, clip=clip)
    data = base64.b64decode(shot["data"])
    path.write_bytes(data)
    keep = os.environ.get("TRACKER_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / path.name)
    return data


def open_page(page: DevTools, url: str, width: int, height: int, *, dark: bool = False) -> None:
    page.call(
        "Emulation.setDeviceMetricsOverride",
        width=width,
        height=height,
        deviceScaleFactor=1,
        mobile=width < 500,
    )
    scheme = "dark" if dark else "light"
    page.call(
        "Emulation.setEmulatedMedia", features=[{"name": "prefers-color-scheme", "value": scheme}]
    )
    since = len(page.events)
    page.call("Page.navigate", url=url)
    page.wait_for("Page.loadEventFired", since)


def evaluate(page: DevTools, expression: str) -> Any:
    result = page.call("Runtime.evaluate", expression=expression, returnByValue=True)
    return result["result"]["value"]


@pytest.mark.slow
def test_html_report_renders_every_chart_offline(history, browser: DevTools, tmp_path) -> None:  # noqa: ANN001
    from tracker.render.report_html import render_html
    from tracker.reports.document import build_report

    doc = build_report(
        history,
        learner_id=history.learner_id,
        now=at(NOW, history),
        clock=history.clock,
        sessions_per_week=3,
    )
    page_path = tmp_path / "report.html"
    page_path.write_bytes(render_html(doc))
    url = page_path.as_uri()
    for domain in ("Page", "Runtime", "Log", "Network"):
        browser.call(f"{domain}.enable")

    open_page(browser, url, 1000, 900)
    charts = {c["chart"]: c for c in json.loads(evaluate(browser, MEASURE))}
    assert list(charts) == ["categories", "calendar", "forecast", "reviews", "retention"]
    for chart in charts.values():
        assert chart["width"] > 200 and chart["height"] > 40, chart
        assert chart["drawn"] > 0, chart
    assert charts["categories"]["done"] == len(doc.categories) == 4
    assert charts["calendar"]["cells"] == charts["calendar"]["titled_cells"] == 365
    forecast = doc.reviews.forecast
    assert charts["forecast"]["bars"] == 30
    assert charts["forecast"]["backlog"] == (1 if forecast.backlog else 0)
    assert charts["reviews"]["bars"] == 30
    reviewed_days = sum(1 for d in doc.reviews.retention_over_time if d.reviews)
    assert charts["retention"]["points"] == reviewed_days > 0
    assert charts["retention"]["lines"] >= 1
    # A cell's tooltip names the day and what was done.
    title = evaluate(
        browser,
        "[...document.querySelectorAll('rect.cell > title')].map(t => t.textContent)"
        ".find(t => t.startsWith('2025-11-14'))",
    )
    reviews = doc.calendar[-1].reviews
    assert reviews == sum(1 for r in doc.data.reviews if r.local_date.isoformat() == "2025-11-14")
    assert title == f"2025-11-14: 1 session (flash-attention-3), {reviews} reviews, checked in"
    light = evaluate(browser, "getComputedStyle(document.body).backgroundColor")
    shoot(browser, tmp_path / "report-light.png")

    open_page(browser, url, 1000, 900, dark=True)
    dark = evaluate(browser, "getComputedStyle(document.body).backgroundColor")
    assert light == "rgb(255, 255, 255)" and dark != light
    shoot(browser, tmp_path / "report-dark.png")

    open_page(browser, url, 390, 844)  # a phone: charts scroll in their own box, not the page
    phone = json.loads(evaluate(browser, MEASURE))
    assert all(c["width"] >= 560 for c in phone)  # text stays about 11 px, readable
    boxes = evaluate(
        browser,
        "[...document.querySelectorAll('.scroll')].map(e => e.getBoundingClientRect().width)",
    )
    assert len(boxes) == 5 and all(0 < w <= 390 for w in boxes)
    assert evaluate(browser, "document.documentElement.scrollWidth") <= 390
    shoot(browser, tmp_path / "report-phone.png")

    browser.call("Emulation.setEmulatedMedia", media="print")
    printed = json.loads(evaluate(browser, MEASURE))
    assert all(0 < c["width"] <= 390 for c in printed)  # on paper every chart fits the page
    shoot(browser, tmp_path / "report-print.png")

    requests = [
        e["params"]["request"]["url"]
        for e in browser.events
        if e.get("method") == "Network.requestWillBeSent"
    ]
    assert requests and all(u == url for u in requests), requests
    problems = [
        e
        for e in browser.events
        if e.get("method") == "Runtime.exceptionThrown"
        or (e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] == "error")
        or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")
    ]
    assert problems == []
