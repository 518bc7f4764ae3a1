"""The chat page (static/ai_chat_ws.html) in headless chromium against the
mock API of mock_server.py: login, model picker, streaming over /ws, Stop,
markdown, HTML escaping and the error paths (issue 8). Takes seconds; the
same flow against aiSOS in QEMU is test_chat_aisos.py."""

from __future__ import annotations

import re

import pytest

from chat_helpers import PAGE, ChatPage, screenshot
from mock_server import DEFAULT_REPLY, ERROR_MESSAGE, LONG_TOKENS, MODELS, USERS, MockServer

PAGE_LIMIT = 40 * 1024


@pytest.fixture(scope="module")
def mock():
    server = MockServer(PAGE).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def page(chromium, mock):
    chat = ChatPage(chromium, mock.url)
    chromium.get_log("browser")  # drop what earlier tests left
    chat.open_fresh()
    yield chat
    errors = chat.uncaught_errors()
    assert not errors, f"uncaught JavaScript errors: {errors}"


def logged_in(page, user="alice"):
    page.login_ok(user, USERS[user])
    return page


def test_page_is_small_and_self_contained():
    html = PAGE.read_text(encoding="utf-8")
    assert len(html.encode()) < PAGE_LIMIT, f"the page is {len(html.encode())} bytes, over {PAGE_LIMIT}"
    # Works offline: nothing is loaded from anywhere (no src/href attributes, CSS imports or urls).
    assert not re.search(r"""\s(src|href)\s*=""", html, re.I), "the page must not load external resources"
    assert not re.search(r"@import|url\(|<link\b|<iframe\b", html, re.I), "the page must not load external resources"
    # Model text only ever goes into the DOM through textContent / text nodes.
    assert "innerHTML" not in html and "insertAdjacentHTML" not in html and "document.write" not in html


def test_failed_login_shows_an_error(page, mock):
    page.login("alice", "wrong-password")
    page.until(lambda d: page.visible("login-error"), "no error after a failed login")
    assert "Wrong user name or password" in page.find("#login-error").text
    assert not page.visible("app")
    assert page.token() == ""


def test_streams_tokens_as_they_arrive_and_sends_the_whole_history(page, mock):
    logged_in(page)
    assert page.wait_models() == MODELS
    page.pick_model(MODELS[1])
    page.fill("max-tokens", "64")
    before = len(mock.chats())
    page.watch()
    page.type_and_enter("hi")
    page.wait_turn_end()
    assert page.body_text() == DEFAULT_REPLY

    # Incremental: the DOM showed several growing prefixes of the answer while it streamed.
    partial = [s["text"] for s in page.snapshots() if s["state"] == "streaming" and s["text"]]
    distinct = list(dict.fromkeys(partial))
    assert all(DEFAULT_REPLY.startswith(text) for text in distinct), distinct
    proper = [text for text in distinct if text != DEFAULT_REPLY]
    assert len(proper) >= 3, f"expected several DOM updates before the answer was complete, saw {distinct}"
    meta = page.meta_text()
    # The mock's usage counts one token a word.
    assert f"{len(DEFAULT_REPLY.split())} tokens" in meta and re.search(r"[\d.]+ tokens/s", meta), meta

    chats = mock.chats()[before:]
    assert len(chats) == 1
    assert chats[0]["messages"] == [{"role": "user", "content": "hi"}]
    assert chats[0]["options"] == {"model": MODELS[1], "max_tokens": 64}
    opened = [m for m in mock.ws_messages if m["type"] == "_open"][-1]
    assert opened["protocol"] == "bearer." + page.token() and opened["user"] == "alice"

    # Shift+Enter is a newline, Enter sends; the whole conversation goes with the new turn.
    from selenium.webdriver.common.keys import Keys
    page.type_and_enter("line one", Keys.SHIFT, Keys.ENTER, Keys.SHIFT, "line two")
    page.until(lambda d: page.assistant_count() == 2, "the second message was not sent")
    page.wait_turn_end()
    chats = mock.chats()[before:]
    assert len(chats) == 2
    assert chats[1]["messages"] == [{"role": "user", "content": "hi"},
                                    {"role": "assistant", "content": DEFAULT_REPLY},
                                    {"role": "user", "content": "line one\nline two"}]
    assert page.find_all(".msg.user .body")[-1].text == "line one\nline two"
    assert page.last_finish() == "stop"

    # max_tokens goes to the server; an answer cut by it says so.
    page.fill("max-tokens", "3")
    page.type_and_enter("short please")
    page.until(lambda d: page.assistant_count() == 3, "the third message was not sent")
    page.wait_turn_end()
    assert mock.chats()[-1]["options"] == {"model": MODELS[1], "max_tokens": 3}
    assert page.body_text() == "Hello from the"
    assert page.last_finish() == "length" and "max tokens reached" in page.meta_text(), page.meta_text()


def test_stop_button_ends_a_long_answer(page, mock):
    logged_in(page)
    page.wait_models()
    page.type_and_enter("tell a long story")
    page.until(lambda d: page.body_text().startswith("w0 w1 w2"), "the long answer did not start streaming")
    assert page.visible("stop") and not page.visible("send")
    stops_before = sum(1 for m in mock.ws_messages if m["type"] == "stop")
    page.find("#stop").click()
    mock.wait_for(lambda messages: sum(1 for m in messages if m["type"] == "stop") > stops_before)
    page.wait_turn_end(states=("stopped",))
    assert "stopped" in page.meta_text()
    assert page.last_finish() == "stop", "the turn ended without the server's done after the stop"
    words = page.body_text().split()
    assert 3 <= len(words) < LONG_TOKENS, f"{len(words)} words: the stream did not stop"
    assert words == [f"w{i}" for i in range(len(words))]
    assert page.visible("send") and not page.visible("stop")
    # The partial answer stays in the conversation.
    page.type_and_enter("thanks")
    page.until(lambda d: page.assistant_count() == 2, "the next message was not sent")
    page.wait_turn_end()
    history = mock.chats()[-1]["messages"]
    assert history[0] == {"role": "user", "content": "tell a long story"}
    assert history[1]["role"] == "assistant" and history[1]["content"].split() == words


def test_markdown_is_rendered_and_html_is_escaped(page, mock):
    logged_in(page)
    page.wait_models()
    page.type_and_enter("show markdown please")
    page.wait_turn_end()
    answer = page.last_assistant()
    By = page.By
    code = answer.find_element(By.CSS_SELECTOR, ".body pre > code")
    assert page.js("return arguments[0].textContent", code) == "for i in range(3):\n    print(i < 2)"
    assert "language-python" in code.get_attribute("class")
    assert answer.find_element(By.CSS_SELECTOR, ".body .code .lang").text == "python"
    assert [e.text for e in answer.find_elements(By.CSS_SELECTOR, ".body strong")] == ["bold"]
    assert [page.js("return arguments[0].textContent", e)
            for e in answer.find_elements(By.CSS_SELECTOR, ".body p code")] == ["x < y"]
    assert answer.find_elements(By.CSS_SELECTOR, ".body p")[-1].text == "Done."

    page.type_and_enter("now some script")
    page.until(lambda d: page.assistant_count() == 2, "the second message was not sent")
    page.wait_turn_end()
    answer = page.last_assistant()
    text = page.body_text()
    assert '<script>window.__pwned = 1</script>' in text and '<img src=x onerror="window.__pwned=2">' in text
    assert not answer.find_elements(By.CSS_SELECTOR, "script, img"), "model output became HTML elements"
    assert page.js("return window.__pwned === undefined"), "model output ran as script"
    screenshot(page.driver, "chat-page.png")
    # The same conversation in the dark scheme.
    page.driver.execute_cdp_cmd("Emulation.setEmulatedMedia",
                                {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    try:
        background = page.js("return getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(17, 20, 24)", background
        screenshot(page.driver, "chat-page-dark.png")
    finally:
        page.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})


def test_server_error_and_dropped_connection_are_shown(page, mock):
    logged_in(page)
    page.wait_models()
    page.type_and_enter("please fail")
    page.wait_turn_end(states=("error",))
    assert ERROR_MESSAGE in page.last_assistant().find_element(page.By.CSS_SELECTOR, ".failure").text

    page.type_and_enter("drop the line")
    page.until(lambda d: page.assistant_count() == 2, "the second message was not sent")
    page.wait_turn_end(states=("interrupted",))
    assert page.body_text() == "Partial answer"
    failure = page.last_assistant().find_element(page.By.CSS_SELECTOR, ".failure").text
    assert "connection dropped" in failure, failure
    # The failed turn is not sent again as history; the interrupted one is kept.
    page.type_and_enter("hello again")
    page.until(lambda d: page.assistant_count() == 3, "the third message was not sent")
    page.wait_turn_end()
    assert mock.chats()[-1]["messages"] == [{"role": "user", "content": "drop the line"},
                                            {"role": "assistant", "content": "Partial answer"},
                                            {"role": "user", "content": "hello again"}]


def test_no_model_is_explained_with_the_upload_command(page, mock):
    expected = f"curl -X PUT http://127.0.0.1:{mock.port}/fs/models/<name>.gguf"
    logged_in(page, "bob")  # /v1/models answers 503
    page.until(lambda d: page.visible("notice"), "no notice when /v1/models answers 503")
    notice = page.find("#notice").text
    assert "503" in notice and "loading" in notice and expected in notice, notice
    assert not page.find("#send").is_enabled()

    page.find("#logout").click()
    page.until(lambda d: page.visible("login-form"), "logout did not return to the login form")
    logged_in(page, "carol")  # empty model list
    page.until(lambda d: page.visible("notice"), "no notice for an empty model list")
    notice = page.find("#notice").text
    assert "No model is installed" in notice and expected in notice, notice
    assert not page.find("#send").is_enabled()

    page.find("#logout").click()
    page.until(lambda d: page.visible("login-form"), "logout did not return to the login form")
    logged_in(page, "dave")  # /v1/models answers 404: no llm module
    page.until(lambda d: page.visible("notice"), "no notice when /v1/models answers 404")
    notice = page.find("#notice").text
    assert "AI service is not installed" in notice, notice
    assert f"curl -X POST http://127.0.0.1:{mock.port}/pkg/install --data-binary @llm.rpk" in notice, notice
    assert not page.find("#send").is_enabled()


def test_logout_and_expired_session(page, mock):
    logged_in(page)
    page.wait_models()
    token = page.token()
    assert token in mock.tokens
    page.find("#logout").click()
    page.until(lambda d: page.visible("login-form"), "logout did not return to the login form")
    assert page.token() == ""
    mock_saw_logout = lambda: token not in mock.tokens  # noqa: E731
    page.until(lambda d: mock_saw_logout(), "the page did not revoke the token with POST /auth/logout")

    # A stored token the server no longer accepts: back to login with a 401 message.
    page.js("sessionStorage.setItem('aisos.session', JSON.stringify({token: arguments[0], user: 'alice'}))", token)
    page.driver.refresh()
    page.until(lambda d: page.visible("login-error"), "no message for an expired session")
    assert "Not logged in" in page.find("#login-error").text and "401" in page.find("#login-error").text
    assert page.token() == ""
