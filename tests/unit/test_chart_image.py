"""The chart deploys, by default, the image `make image` builds and tags."""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "alertmanager-plusplus"


def test_the_charts_default_image_is_the_one_make_image_tags() -> None:
    env = {k: v for k, v in os.environ.items() if k != "AMPP_IMAGE"}
    built = subprocess.run(
        [str(ROOT / "scripts" / "image.sh"), "--name"], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    image = yaml.safe_load((CHART / "values.yaml").read_text())["image"]
    app_version = yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"]
    assert f"{image['repository']}:{image['tag'] or app_version}" == built


def test_the_dockerfiles_default_version_is_pyprojects() -> None:
    """A plain `docker build .` labels the image with the version it installs."""
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    defaults = re.findall(r"^ARG VERSION=(\S+)$", (ROOT / "Dockerfile").read_text(), re.M)
    assert defaults and set(defaults) == {version}, (
        f"Dockerfile's ARG VERSION defaults {defaults} must be pyproject.toml's version {version}"
    )
