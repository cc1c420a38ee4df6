"""Headless Chromium (Debian's package): renders the dashboard page into a PNG, so that a
test (and a user) can see the page as a person would."""

from __future__ import annotations

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
            f"--screenshot={png}",
            f"--window-size={width},{height}",
            page.as_uri(),
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise DashboardError(f"screenshot: {exe} did not finish within {timeout} s") from None
    if proc.returncode != 0 or not png.is_file() or png.stat().st_size == 0:
        tail = "\n".join((proc.stderr or "").strip().splitlines()[-8:])
        raise DashboardError(
            f"screenshot: {exe} exited with {proc.returncode} and wrote no " f"{png}:\n{tail}"
        )
    return png
