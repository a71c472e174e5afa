"""The Snakemake report: its items, and the page as headless Chromium shows it."""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import re
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from artistrec import plots, report

from conftest import metrics_document, run_folder, snakemake

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ITEMS = {
    "metrics.html": ("Evaluation", "text/html"),
    "map_at_k.svg": ("Evaluation", "image/svg+xml"),
    "examples.html": ("Evaluation", "text/html"),
    "loss.svg": ("Training", "image/svg+xml"),
    "explained_variance.svg": ("Features", "image/svg+xml"),
    "long_tail.svg": ("Features", "image/svg+xml"),
    "run.html": ("Run", "text/html"),
}


@pytest.fixture(scope="module")
def report_file(demo_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.html"
    snakemake(demo_run, "--report", str(path))
    return path


def embedded(report_html: Path, variable: str) -> dict[str, Any]:
    """One of the report's embedded JSON variables, e.g. ``var results = {...};``."""
    match = re.search(rf"var {variable} = (\{{.*?\}});\n", report_html.read_text(encoding="utf-8"), re.S)
    assert match, f"the report embeds no {variable}"
    return json.loads(match.group(1))


def embedded_results(report_html: Path) -> dict[str, dict[str, Any]]:
    """One entry per report item, keyed by its path."""
    return embedded(report_html, "results")


def data_uri_text(uri: str) -> str:
    return base64.b64decode(uri.split(",", 1)[1]).decode("utf-8")


# --- the built report ----------------------------------------------------------------


def test_report_embeds_every_item_with_its_category_and_caption(report_file):
    results = embedded_results(report_file)
    by_name = {Path(path).name: entry for path, entry in results.items()}
    assert set(by_name) == set(ITEMS)
    category_of = {
        Path(path).name: category
        for category, subcategories in embedded(report_file, "categories").items()
        for paths in subcategories.values()
        for path in paths
    }
    for name, (category, mime) in ITEMS.items():
        entry = by_name[name]
        assert category_of[name] == category
        assert entry["mime_type"] == mime and entry["data_uri"].startswith(f"data:{mime};")
        assert entry["caption"].strip(), f"{name} has no caption"
        assert entry["labels"] == {"dataset": "demo", "item": entry["labels"]["item"]}


def test_report_is_self_contained(report_file):
    text = report_file.read_text(encoding="utf-8")
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=\"https?://", text)


def test_report_metrics_table_lists_every_method_and_metric(report_file, demo_run):
    metrics = json.loads((demo_run / "metrics.json").read_text())
    entry = next(e for p, e in embedded_results(report_file).items() if p.endswith("metrics.html"))
    table = data_uri_text(entry["data_uri"])
    for method, values in metrics["methods"].items():
        assert f"<td>{method}</td>" in table
        assert f"{values['map@10']:.4f}" in table
        assert f"[{values['map@10_ci95'][0]:.4f}, {values['map@10_ci95'][1]:.4f}]" in table
    for header in ("MAP@1", "MAP@5", "MAP@10", "MAP@20", "NDCG@10", "Recall@20", "coverage@20", "long tail@20"):
        assert f"<th>{header}</th>" in table


def test_report_examples_name_test_artists_and_their_co_listened_artists(report_file, demo_run):
    entry = next(e for p, e in embedded_results(report_file).items() if p.endswith("examples.html"))
    page = data_uri_text(entry["data_uri"])
    names = pd.read_parquet(demo_run / "results" / "demo" / "data" / "artists.parquet").set_index("artist_id").name
    test = np.loadtxt(run_folder(demo_run) / "split" / "test.txt", dtype=np.int64)
    headings = re.findall(r"<h3>(.*?) \(artist (\d+),", page)
    assert len(headings) == 4
    for name, artist_id in headings:
        assert int(artist_id) in test and names[int(artist_id)] == name
    served = json.loads((run_folder(demo_run) / "run.json").read_text())["served_method"]["name"]
    assert f"recommended by {served}" in page and "most co-listened artists" in page


def test_report_run_item_shows_the_config_and_package_versions(report_file):
    entry = next(e for p, e in embedded_results(report_file).items() if p.endswith("run.html"))
    page = data_uri_text(entry["data_uri"])
    for package in ("python", "snakemake", "tensorflow", "keras", "numpy"):
        assert f"<td>{package}</td>" in page
    assert "n_candidates: 100" in page and "hidden_units" in page


# --- headless Chromium ---------------------------------------------------------------


class Chromium:
    """A minimal Chrome DevTools Protocol client over ``--remote-debugging-pipe``.

    No websocket library is needed: Chromium reads NUL-terminated JSON commands on
    fd 3 and writes replies and events on fd 4. Works offline with Debian's chromium.
    """

    def __init__(self, executable: str) -> None:
        self.read_fd, chrome_write = os.pipe()
        chrome_read, self.write_fd = os.pipe()
        # Above 9, so that the 3<& and 4>& redirections cannot overwrite each other (bash, not dash, takes fds > 9).
        chrome_read, chrome_write = (self._above_4(fd) for fd in (chrome_read, chrome_write))
        self.profile = tempfile.mkdtemp(prefix="chromium-")
        command = (
            f"exec {executable} --headless --no-sandbox --disable-gpu --no-first-run --disable-extensions "
            f"--remote-debugging-pipe --user-data-dir={self.profile} about:blank "
            f"3<&{chrome_read} 4>&{chrome_write}"
        )
        self.process = subprocess.Popen(
            ["bash", "-c", command],
            pass_fds=(chrome_read, chrome_write),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(chrome_read)
        os.close(chrome_write)
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict[str, Any]] = []
        self.session: str | None = None

    @staticmethod
    def _above_4(fd: int) -> int:
        moved = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
        os.close(fd)
        return moved

    def _receive(self, wanted, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" in self.buffer:
                raw, self.buffer = self.buffer.split(b"\0", 1)
                message = json.loads(raw)
                if wanted(message):
                    return message
                self.events.append(message)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("Chromium did not answer")
            if select.select([self.read_fd], [], [], remaining)[0]:
                chunk = os.read(self.read_fd, 1 << 20)
                if not chunk:
                    raise RuntimeError("Chromium closed the pipe")
                self.buffer += chunk

    def call(self, method: str, params: dict | None = None, timeout: float = 30) -> dict[str, Any]:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if self.session and not method.startswith(("Target.", "Browser.")):
            message["sessionId"] = self.session
        os.write(self.write_fd, json.dumps(message).encode() + b"\0")
        reply = self._receive(lambda m: m.get("id") == self.next_id, timeout)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]

    def open(self, url: str) -> None:
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Page"):
            self.call(f"{domain}.enable")
        self.call("Page.navigate", {"url": url})
        self._receive(lambda m: m.get("method") == "Page.loadEventFired", 60)

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", {"expression": expression, "awaitPromise": True, "returnByValue": True})
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    def console_errors(self) -> list[str]:
        errors = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                errors.append(json.dumps(params["exceptionDetails"])[:500])
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                errors.append(json.dumps(params["args"])[:500])
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                errors.append(params["entry"].get("text", "")[:500])
        return errors

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError):
            self.call("Browser.close", timeout=10)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self.read_fd)
        os.close(self.write_fd)
        shutil.rmtree(self.profile, ignore_errors=True)


# Shows each result through the report's own view manager, then reports what the
# content pane displays: the image's decoded width, or the iframe's source.
SHOW_EVERY_RESULT = """
(async () => {
  const shown = {};
  for (const path of Object.keys(results)) {
    new ToggleViewManager(app).handleSelectedResult(path);
    await new Promise(resolve => setTimeout(resolve, 100));
    const showing = tag => [...document.querySelectorAll(tag)].find(
      element => element.getAttribute("src") === results[path].data_uri);
    if (results[path].mime_type.startsWith("image/")) {
      const img = showing("img");
      if (img && !img.complete) await new Promise(resolve => { img.onload = img.onerror = resolve; });
      shown[path] = img ? img.naturalWidth : -1;
    } else {
      shown[path] = showing("iframe") ? "iframe" : "missing";
    }
  }
  return shown;
})()
"""


@pytest.fixture
def chromium() -> Chromium:
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed")
    browser = Chromium(CHROMIUM)
    yield browser
    browser.close()


def test_report_loads_in_chromium_without_console_errors_and_shows_every_plot(report_file, chromium):
    chromium.open(report_file.as_uri())
    menu = chromium.evaluate("document.body.innerText")
    assert all(category in menu.upper() for category in ("EVALUATION", "FEATURES", "TRAINING", "RUN"))
    shown = chromium.evaluate(SHOW_EVERY_RESULT)
    for path, display in shown.items():
        if path.endswith(".svg"):
            assert isinstance(display, int) and display > 100, f"{path} is not displayed as an image"
        else:
            assert display == "iframe", f"{path} is not displayed"
    assert len(shown) == len(ITEMS)
    assert chromium.console_errors() == []


# --- figures and tables from plain data -----------------------------------------------

METRICS = metrics_document(
    {
        name: {
            "map@1": base,
            "map@5": base - 0.05,
            "map@10": base - 0.1,
            "map@20": base - 0.15,
            "ndcg@10": base,
            "recall@20": base / 2,
            "coverage@20": base / 3,
            "map@10_ci95": [base - 0.2, base],
        }
        for name, base in (("network", 0.5), ("popularity", 0.3))
    }
)


def test_metrics_table_has_one_row_per_method_and_the_interval():
    table = report.metrics_table(METRICS)
    assert table["method"].tolist() == ["network", "popularity"]
    assert "long tail@20" not in table.columns  # METRICS predates it: no column rather than an error
    assert table.loc[0, "MAP@10"] == pytest.approx(0.4)
    assert table.loc[1, "MAP@10 95% interval"] == "[0.1000, 0.3000]"


def test_metrics_html_puts_each_columns_best_method_in_bold():
    page = report.metrics_html(METRICS)
    assert '<td class="number best">0.4000</td>' in page  # network's MAP@10
    assert '<td class="number">0.2000</td>' in page  # popularity's MAP@10


def test_examples_table_marks_recommendations_that_share_listeners_as_hits():
    names = pd.Series({1: "A", 2: "B", 3: "C", 4: "D"})
    shared = pd.Series({2: 5.0, 4: 9.0})
    table, rows = report.examples_table(np.array([2, 3]), shared, names, top=10, method="network_listeners")
    assert table["recommended by network_listeners"].tolist() == ["B", "C"]
    assert table["most co-listened artists"].tolist() == ["D", "B"]
    assert rows == ["hit", ""]


def test_example_artists_are_the_most_listened_test_artists():
    interactions = pd.DataFrame({"user_id": [1, 2, 3, 1, 2, 1], "artist_id": [7, 7, 7, 8, 8, 9]})
    assert report.example_artists(interactions, np.array([8, 9, 7]), 2).tolist() == [7, 8]


def test_long_tail_marks_the_least_listened_candidate_as_cut_off():
    counts = np.array([50, 40, 30, 20, 10])
    figure = plots.long_tail_figure(counts, np.array([True, False, True, False, False]))
    cut_off = [line for line in figure.axes[0].get_lines() if line.get_linestyle() == "--"]
    assert len(cut_off) == 1 and cut_off[0].get_ydata()[0] == 30


def test_explained_variance_curves_are_cumulative_per_source():
    figure = plots.explained_variance_figure({"tags": np.array([0.5, 0.2, 0.1]), "likes": np.array([0.3, 0.3])})
    lines = figure.axes[0].get_lines()
    assert [line.get_label().split()[0] for line in lines] == ["tags", "likes"]
    assert np.allclose(lines[0].get_ydata(), [0.5, 0.7, 0.8])


def test_loss_figure_marks_the_epoch_whose_weights_are_restored():
    history = pd.DataFrame({"epoch": [1, 2, 3], "loss": [3.0, 2.0, 1.0], "val_loss": [2.5, 2.0, 2.2], "seconds": 1.0})
    labels = [line.get_label() for line in plots.loss_figure(history).axes[0].get_lines()]
    assert "restored: epoch 2" in labels


def test_svg_output_is_byte_identical_for_the_same_data(tmp_path):
    for name in ("a.svg", "b.svg"):
        plots.save_svg(plots.map_at_k_figure(METRICS["methods"]), tmp_path / name)
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes()


def test_package_versions_list_python_first_and_flag_missing_packages():
    versions = report.package_versions(("numpy", "surely-not-installed-package"))
    assert versions["package"].tolist() == ["python", "numpy", "surely-not-installed-package"]
    assert versions["version"].iloc[-1] == "not installed"
