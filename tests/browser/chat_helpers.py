"""Helpers for the browser tests of the chat page (static/ai_chat_ws.html) in
headless Debian chromium driven by selenium + chromium-driver (issue 8).

  start_chromium()  a headless chromium WebDriver (skips the test, with the
                    reason, only when chromium cannot be started at all)
  ChatPage   the page's controls as methods, shared by test_chat_page.py
             (against mock_server.py) and test_chat_aisos.py (against aiSOS)

Screenshots go to build/test-artifacts/. Environment: AISOS_CHROMIUM and
AISOS_CHROMEDRIVER override /usr/bin/chromium and /usr/bin/chromedriver.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "static" / "ai_chat_ws.html"
ARTIFACTS = ROOT / "build" / "test-artifacts"
CHROMIUM = os.environ.get("AISOS_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("AISOS_CHROMEDRIVER", "/usr/bin/chromedriver")
# UI waits: the mock answers in milliseconds; these only bound a failure.
WAIT = 20


def start_chromium():
    """A headless chromium WebDriver, or pytest.skip with why it cannot start."""
    try:
        from selenium import webdriver
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.chrome.service import Service
    except ImportError as error:
        pytest.skip(f"selenium is not installed ({error}); build/venv/bin/pip install selenium")
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            pytest.skip(f"{path} is missing; apt-get install {package}")
    profile = tempfile.mkdtemp(prefix="aisos-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1100,820", "--no-first-run", "--disable-extensions",
                     "--disable-background-networking", f"--user-data-dir={profile}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    except WebDriverException as error:
        shutil.rmtree(profile, ignore_errors=True)
        pytest.skip(f"headless chromium could not be started: {error.msg or error}")
    driver.aisos_profile = profile
    return driver


def stop_chromium(driver):
    driver.quit()
    shutil.rmtree(driver.aisos_profile, ignore_errors=True)


def screenshot(driver, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    assert driver.save_screenshot(str(path)), f"chromium could not write {path}"
    assert path.stat().st_size > 1000, f"{path} is suspiciously small"
    return path


# Records, on every DOM change of the conversation, the text and state of the
# last assistant message: proof that text appeared piece by piece.
OBSERVER_JS = """
window.__snapshots = [];
const view = document.getElementById('messages');
if (window.__observer) window.__observer.disconnect();
window.__observer = new MutationObserver(() => {
  const all = view.querySelectorAll('.msg.assistant');
  const last = all[all.length - 1];
  if (!last) return;
  window.__snapshots.push({text: last.querySelector('.body').textContent, state: last.dataset.state || ''});
});
window.__observer.observe(view, {childList: true, subtree: true, characterData: true, attributes: true});
"""


class ChatPage:
    def __init__(self, driver, url: str, wait: float = WAIT):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait
        self.driver = driver
        self.url = url
        self.By = By
        self.wait_s = wait
        self._wait = WebDriverWait

    # ---- basics ----
    def until(self, condition, message: str, timeout: float | None = None):
        """Polls condition(driver) until truthy; fails with message on timeout."""
        return self._wait(self.driver, timeout or self.wait_s, poll_frequency=0.05).until(condition, message)

    def find(self, css: str):
        return self.driver.find_element(self.By.CSS_SELECTOR, css)

    def find_all(self, css: str):
        return self.driver.find_elements(self.By.CSS_SELECTOR, css)

    def js(self, script: str, *args):
        return self.driver.execute_script(script, *args)

    def visible(self, element_id: str) -> bool:
        return self.js("const e = document.getElementById(arguments[0]); return !!e && !e.closest('[hidden]');",
                       element_id)

    def open_fresh(self):
        """Loads the page with no session (sessionStorage is per tab and survives reloads)."""
        self.driver.get(self.url)
        self.js("sessionStorage.clear();")
        self.driver.get(self.url)
        self.until(lambda d: self.visible("login-form"), "the login form never appeared")

    def uncaught_errors(self) -> list[str]:
        entries = self.driver.get_log("browser")
        return [e["message"] for e in entries
                if e.get("level") == "SEVERE" and ("Uncaught" in e["message"] or "SyntaxError" in e["message"])]

    # ---- login ----
    def login(self, user: str, password: str):
        self.fill("login-user", user)
        self.fill("login-password", password)
        self.find("#login-submit").click()

    def fill(self, element_id: str, text: str):
        field = self.find("#" + element_id)
        field.clear()
        field.send_keys(text)

    def login_ok(self, user: str, password: str):
        self.login(user, password)
        self.until(lambda d: self.visible("app"), f"logging in as {user} did not show the chat")

    def wait_models(self, timeout: float | None = None) -> list[str]:
        self.until(lambda d: self.js("return document.getElementById('model').options.length") > 0,
                   "the model picker was never filled from /v1/models", timeout)
        return self.js("return [...document.getElementById('model').options].map(o => o.value)")

    def pick_model(self, name: str):
        from selenium.webdriver.support.ui import Select
        Select(self.find("#model")).select_by_value(name)

    # ---- chat ----
    def type_and_enter(self, *keys):
        from selenium.webdriver.common.keys import Keys
        prompt = self.find("#prompt")
        prompt.send_keys(*keys)
        prompt.send_keys(Keys.ENTER)

    def watch(self):
        self.js(OBSERVER_JS)

    def snapshots(self) -> list[dict]:
        return self.js("return window.__snapshots || []")

    def assistant_count(self) -> int:
        return len(self.find_all(".msg.assistant"))

    def last_assistant(self):
        messages = self.find_all(".msg.assistant")
        assert messages, "no assistant message on the page"
        return messages[-1]

    def last_state(self) -> str:
        return self.js("const m = document.querySelectorAll('.msg.assistant');"
                       "return m.length ? m[m.length - 1].dataset.state || '' : ''")

    def last_finish(self) -> str:
        """finish_reason of the server's "done" for the last answer ("" when none came)."""
        return self.js("const m = document.querySelectorAll('.msg.assistant');"
                       "return m.length ? m[m.length - 1].dataset.finish || '' : ''")

    def wait_turn_end(self, states=("done",), timeout: float | None = None) -> str:
        self.until(lambda d: self.last_state() not in ("", "streaming"), "the answer never finished", timeout)
        state = self.last_state()
        assert state in states, (f"the turn ended as {state!r}, expected {states}; "
                                 f"failure: {self.last_assistant().text!r}")
        return state

    def body_text(self) -> str:
        return self.js("const m = document.querySelectorAll('.msg.assistant .body');"
                       "return m[m.length - 1].textContent")

    def meta_text(self) -> str:
        return self.last_assistant().find_element(self.By.CSS_SELECTOR, ".meta").text

    def token(self) -> str:
        return self.js("return JSON.parse(sessionStorage.getItem('aisos.session') || 'null')?.token || ''")
