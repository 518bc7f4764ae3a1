"""Fixtures for the browser tests (issue 8); the helpers live in chat_helpers.py
(a conftest is not importable by name when several test folders have one).

  chromium   one headless chromium session per test module
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from chat_helpers import start_chromium, stop_chromium  # noqa: E402


@pytest.fixture(scope="module")
def chromium():
    driver = start_chromium()
    try:
        yield driver
    finally:
        stop_chromium(driver)
