"""The project's own install files: what pip reads from pyproject.toml."""

from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent


def test_license_is_an_spdx_expression():
    """A `project.license` TOML table makes setuptools warn three times on every install
    (deprecated); an SPDX string needs setuptools >= 77, which the build system asks for."""
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert meta["project"]["license"] == "Apache-2.0"
    assert "setuptools>=77" in meta["build-system"]["requires"]
