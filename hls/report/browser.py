"""Headless Chromium (Debian's package): renders the dashboard page into a PNG, so that a
test (and a user) can see the page as a person would."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from hls.report.discover import DashboardError

CHROMIUM = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium():
    for name in CHROMIUM:
        path = shutil.which(name)
        if path:
            return path
    return None


LAYOUT_SCRIPT = """<script>
window.addEventListener('load', () => {
  const out = [];
  document.querySelectorAll('.tablewrap').forEach((w, i) => {
    const sec = w.closest('section');
    const heads = [...w.querySelectorAll('th')].map(h => h.textContent);
    out.push({section: sec ? sec.id : '', index: i, scroll: w.scrollWidth,
              client: w.clientWidth, headers: heads});
  });
  const pre = document.createElement('pre');
  pre.id = 'qpart-layout';
  pre.textContent = JSON.stringify({page: document.documentElement.scrollWidth,
                                    window: window.innerWidth, tables: out});
  document.body.appendChild(pre);
});
</script>"""


def _chromium(exe, profile, width, height, extra, url, timeout):
    cmd = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *extra,
        f"--window-size={width},{height}",
        url,
    ]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise DashboardError(f"{exe} did not finish within {timeout} s") from None


def table_widths(html_path, width=1400, timeout=180) -> dict:
    """The page laid out at `width` px in headless Chromium: the page's scroll width and, per
    table, its box's scroll and client width (a table wider than its box scrolls sideways, and
    its right-hand columns are out of sight). Measured on a copy of the page beside it."""
    import html
    import json

    exe = find_chromium()
    if exe is None:
        raise DashboardError(f"layout: no Chromium on PATH (looked for {', '.join(CHROMIUM)})")
    page = Path(html_path).resolve()
    probe = page.with_name(".layout-probe.html")
    probe.write_text(page.read_text().replace("</body>", LAYOUT_SCRIPT + "</body>"))
    try:
        with tempfile.TemporaryDirectory(prefix="qpart-chromium-") as profile:
            extra = ["--dump-dom", "--virtual-time-budget=5000"]
            proc = _chromium(exe, profile, width, 1000, extra, probe.as_uri(), timeout)
    finally:
        probe.unlink()
    found = re.search(r'<pre id="qpart-layout">(.*?)</pre>', proc.stdout or "", re.S)
    if found is None:
        raise DashboardError(f"layout: {exe} gave no measurement of {page}")
    return json.loads(html.unescape(found[1]))


def screenshot(html_path, png, width=1400, height=3000, timeout=180):
    """Render `html_path` in headless Chromium into `png`. DashboardError when Chromium is not
    installed or writes no image."""
    exe = find_chromium()
    if exe is None:
        raise DashboardError(
            f"screenshot: no Chromium on PATH (looked for {', '.join(CHROMIUM)});"
            " install it, e.g. apt-get install chromium"
        )
    page = Path(html_path).resolve()
    if not page.is_file():
        raise DashboardError(f"{page}: no such HTML file to screenshot")
    png = Path(png).resolve()
    png.parent.mkdir(parents=True, exist_ok=True)
    if png.exists():
        png.unlink()
    with tempfile.TemporaryDirectory(prefix="qpart-chromium-") as profile:
        try:
            proc = _chromium(
                exe, profile, width, height, [f"--screenshot={png}"], page.as_uri(), timeout
            )
        except DashboardError as err:
            raise DashboardError(f"screenshot: {err}") from None
    if proc.returncode != 0 or not png.is_file() or png.stat().st_size == 0:
        tail = "\n".join((proc.stderr or "").strip().splitlines()[-8:])
        raise DashboardError(
            f"screenshot: {exe} exited with {proc.returncode} and wrote no " f"{png}:\n{tail}"
        )
    return png
