#!/usr/bin/env python3
"""Real-browser test of the chat widget and the agent console.

Starts `supportbot serve` (demo knowledge base plus one test topic whose answer holds HTML, a fresh SQLite file in a
temp folder, every port chosen by the system), then drives headless Chromium through Selenium:

  customer: open the demo shop, open the widget (keyboard), ask, get the answer, click a quick reply, get an answer
            that contains <script> and <img onerror> shown as text, reload mid-chat and see the chat resume,
            ask for a person and see the ticket;
  agent:    in a second browser, log in on /agent with a token, see the ticket without a reload, claim it, see the
            transcript, chat both ways (agent HTML shown as text), close with a resolution;
  customer: rate 5 stars; the rating is stored.
  phone:    the widget on a 360 px wide screen fits.

Screenshots go to the artifacts folder (default .build/browser-artifacts). Any console error in either page
(for example a Content-Security-Policy violation) fails the test.

Run after a build:  swift build && python3 Tests/browser/browser_test.py
Needs: chromium, chromium-driver and python3-selenium (Debian packages); see README.md.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
WAIT = 20

# A topic whose answer is full of markup: the widget must show it as text.
HTML_TOPIC = """
- id: test.markup
  title: Show the markup test
  reply: "Here is the markup test: <script>window.__xss = 1</script> and <img src=x onerror=\\"window.__xss = 2\\"> as text."
  tags: [test]
  examples:
    - show me the markup test
    - markup test please
    - run the markup test
    - i want the markup test
    - can you show the markup test
"""


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)
    print(f"  ok  {message}")


def prepare(binary, folder):
    """A copy of the demo knowledge base plus the markup topic, and a database with the agent Sam."""
    intents = folder / "intents"
    knowledge = folder / "knowledge"
    shutil.copytree(ROOT / "intents", intents)
    shutil.copytree(ROOT / "knowledge", knowledge)
    (intents / "markup-test.yml").write_text(HTML_TOPIC)
    db = folder / "chat.sqlite"
    token_output = subprocess.run([binary, "agents", "add", "Sam", "--db", str(db)], check=True,
                                  capture_output=True, text=True).stdout
    return re.search(r"sbt_[A-Za-z0-9]+", token_output).group(0), db


def start_server(binary, folder, db, http_port=0, log_name="serve.log"):
    log = open(folder / log_name, "w+")
    process = subprocess.Popen(
        [binary, "serve", "--dev", "--db", str(db), "--intents", str(folder / "intents"),
         "--knowledge", str(folder / "knowledge"), "--port", "0", "--agent-port", "0", "--http-port", str(http_port)],
        stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 120
    while time.time() < deadline:
        log.seek(0)
        match = re.search(r"web=(http://127\.0\.0\.1:\d+)/", log.read())
        if match:
            return process, match.group(1)
        if process.poll() is not None:
            log.seek(0)
            raise Failure("supportbot serve stopped:\n" + log.read())
        time.sleep(0.2)
    raise Failure("supportbot serve did not start in 120 s")


def browser(width=1280, height=900):
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 f"--window-size={width},{height}"):
        options.add_argument(flag)
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
    return webdriver.Chrome(service=service, options=options)


def wait_for(driver, condition, what):
    try:
        return WebDriverWait(driver, WAIT).until(condition)
    except TimeoutException:
        raise Failure(f"timed out waiting for: {what}")


def messages(driver, sender=None):
    selector = "#sbw-log .sbw-msg" + (f'[data-from="{sender}"]' if sender else "")
    return [m.text for m in driver.find_elements(By.CSS_SELECTOR, selector)]


def wait_message(driver, sender, needle, what):
    return wait_for(driver, lambda d: next((m for m in messages(d, sender) if needle in m), False), what)


def console_errors(driver):
    return [e for e in driver.get_log("browser")
            if e["level"] == "SEVERE" and "favicon" not in e["message"]]


def say(driver, text):
    box = driver.find_element(By.ID, "sbw-input")
    box.send_keys(text)
    box.send_keys(Keys.ENTER)


def run(binary, artifacts):
    folder = Path(tempfile.mkdtemp(prefix="supportbot-browser-"))
    process = None
    customer = agent = None
    try:
        token, db = prepare(binary, folder)
        process, base = start_server(binary, folder, db)
        print(f"server at {base}")
        customer = browser()
        customer.get(base + "/")
        print("customer: demo shop and widget")
        bubble = wait_for(customer, EC.element_to_be_clickable((By.ID, "sbw-bubble")), "the chat bubble")
        check(bubble.get_attribute("aria-expanded") == "false", "the bubble says the chat is closed")
        # Keyboard: focus the bubble and press Enter; focus moves to the input.
        customer.execute_script("arguments[0].focus()", bubble)
        bubble.send_keys(Keys.ENTER)
        wait_for(customer, lambda d: d.find_element(By.ID, "sbw-panel").is_displayed(), "the panel to open")
        wait_for(customer, lambda d: d.switch_to.active_element.get_attribute("id") == "sbw-input",
                 "focus in the input")
        check(True, "Enter on the bubble opens the panel and puts focus in the input")
        welcome = wait_message(customer, "bot", "help bot", "the welcome text")
        check("Pebble & Pine" in welcome, "the welcome is shown")
        check(customer.find_element(By.ID, "sbw-log").get_attribute("aria-live") == "polite",
              "new messages are announced (aria-live)")

        say(customer, "where is my order")
        check(bool(messages(customer, "customer")), "the question is shown at once")
        wait_message(customer, "bot", "tracking link", "the answer about tracking")
        check(True, "the answer arrives")
        quick = wait_for(customer, lambda d: d.find_elements(By.CSS_SELECTOR, "#sbw-quick button.sbw-quick"),
                         "quick replies")
        title = quick[0].text
        before = len(messages(customer, "bot"))
        quick[0].click()
        wait_for(customer, lambda d: len(messages(d, "bot")) > before, "an answer to the quick reply")
        check(any(title in m for m in messages(customer, "customer")), f"the quick reply '{title}' is sent and answered")
        customer.save_screenshot(str(artifacts / "widget-answer.png"))

        say(customer, "show me the markup test")
        shown = wait_message(customer, "bot", "markup test:", "the markup answer")
        check("<script>window.__xss = 1</script>" in shown and "<img src=x" in shown,
              "an answer holding <script> and <img onerror> is shown as text")
        check(customer.execute_script("return window.__xss === undefined"), "no script from the answer ran")
        check(not customer.find_elements(By.CSS_SELECTOR, "#sbw-log script, #sbw-log img"),
              "no script or img element was made from the answer")

        print("customer: reload mid-chat")
        session = customer.find_element(By.ID, "sbw-root").get_attribute("data-session")
        customer.refresh()
        wait_message(customer, "customer", "where is my order", "the earlier question after a reload")
        wait_message(customer, "bot", "markup test:", "the earlier answer after a reload")
        wait_for(customer, lambda d: d.find_element(By.ID, "sbw-root").get_attribute("data-session") == session,
                 "the same session after a reload")
        check(customer.find_element(By.ID, "sbw-panel").is_displayed(), "the panel is open again after a reload")
        check(customer.execute_script("return window.__xss === undefined"), "history is shown as text too")

        print("customer: ask for a person")
        say(customer, "can i talk to a real person")
        strip = wait_for(customer, lambda d: (lambda e: e if e.is_displayed() and "Ticket" in e.text else False)(
            d.find_element(By.ID, "sbw-ticket")), "the ticket strip")
        ticket = re.search(r"Ticket\s*(\d+)", strip.text).group(1)
        check(True, f"the handoff shows ticket {ticket}")

        print("agent: log in, claim, chat, close")
        agent = browser(1280, 900)
        agent.get(base + "/agent")
        wait_for(agent, EC.element_to_be_clickable((By.ID, "token")), "the token field").send_keys("wrong-token")
        agent.find_element(By.ID, "login").click()
        wait_for(agent, lambda d: "not right" in d.find_element(By.ID, "login-error").text, "the wrong-token message")
        check(True, "a wrong token is refused with a clear message")
        field = agent.find_element(By.ID, "token")
        field.clear()
        field.send_keys(token)
        agent.find_element(By.ID, "login").click()
        wait_for(agent, lambda d: "Sam" in d.find_element(By.ID, "whoami").text, "the agent's name")
        row = wait_for(agent, lambda d: d.find_elements(By.CSS_SELECTOR, f'#queue .ticket[data-ticket="{ticket}"]'),
                       "the ticket in the queue")[0]
        check("real person" in row.text, "the queue shows the ticket with its preview")

        # A new ticket appears without a reload: a second customer asks for a person.
        second = browser()
        second.get(base + "/")
        wait_for(second, EC.element_to_be_clickable((By.ID, "sbw-bubble")), "the second bubble").click()
        wait_message(second, "bot", "help bot", "the second welcome")
        say(second, "i want to speak to a human")
        wait_for(second, lambda d: d.find_element(By.ID, "sbw-ticket").is_displayed(), "the second ticket")
        wait_for(agent, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#queue .ticket")) >= 2,
                 "the second ticket in the agent's queue")
        check(True, "a new ticket appears in the console without a reload")
        second.quit()

        row = agent.find_element(By.CSS_SELECTOR, f'#queue .ticket[data-ticket="{ticket}"]')
        row.find_element(By.CSS_SELECTOR, "button.claim").click()
        wait_for(agent, lambda d: d.find_element(By.ID, "chat").get_attribute("data-ticket") == ticket,
                 "the claimed chat")
        transcript = wait_for(agent, lambda d: [l.text for l in d.find_elements(By.CSS_SELECTOR,
                              '#transcript .line[data-from="customer"]')] or False, "the transcript")
        check(any("where is my order" in line for line in transcript), "the transcript holds the customer's chat")
        guesses = [li.text for li in agent.find_elements(By.CSS_SELECTOR, "#candidates li:not(.sub)")]
        check(any("Talk to a person" in g for g in guesses), f"the bot's guesses are shown ({guesses})")
        check("Mood:" in agent.find_element(By.ID, "mood").text, "the mood is shown")
        wait_for(customer, lambda d: any("Sam" in m for m in messages(d)), "Sam joining, on the customer's side")
        check(True, "the customer sees that Sam joined")

        agent.find_element(By.ID, "reply").send_keys("Hi, I'm Sam. <b>Bold?</b> Let me look.")
        agent.find_element(By.ID, "send").click()
        shown = wait_message(customer, "agent", "Let me look", "the agent's message")
        check("<b>Bold?</b>" in shown and "Sam" in shown, "the agent's message (with its name) is shown as text")
        say(customer, "thanks, it is order 4411")
        wait_for(agent, lambda d: any("4411" in l.text for l in d.find_elements(By.CSS_SELECTOR,
                 '#transcript .line[data-from="customer"]')), "the customer's message in the console")
        check(True, "the customer's message reaches the agent")
        agent.find_element(By.ID, "reply").send_keys("refund checked by hand")
        agent.find_element(By.ID, "send-note").click()
        wait_for(agent, lambda d: d.find_elements(By.CSS_SELECTOR, '#transcript .line[data-from="note"]'),
                 "the internal note")
        agent.save_screenshot(str(artifacts / "agent-console.png"))
        agent.execute_script("window.scrollTo(0, 0)")
        agent.save_screenshot(str(artifacts / "agent-queue.png"))
        agent.find_element(By.ID, "resolution").send_keys("sent the tracking link")
        agent.find_element(By.ID, "close-chat").click()

        print("customer: rate")
        wait_for(customer, lambda d: d.find_element(By.ID, "sbw-rating").is_displayed(), "the rating box")
        customer.find_element(By.CSS_SELECTOR, '#sbw-rating button.sbw-star[data-score="5"]').click()
        sends = customer.find_elements(By.ID, "sbw-rating-send")
        if sends:
            sends[0].click()
        wait_message(customer, None, "Thank you for your rating", "the thanks for the rating")
        check(True, "the 5-star rating is sent and thanked")
        customer.save_screenshot(str(artifacts / "widget-rated.png"))
        queue = json.loads(subprocess.run([binary, "queue", "--all", "--json", "--db", str(db)], check=True,
                                          capture_output=True, text=True).stdout)
        tickets = queue if isinstance(queue, list) else queue.get("tickets", [])
        rated = [t for t in tickets if str(t.get("ticket")) == ticket]
        check(rated and rated[0].get("rating") == 5, "the rating is stored with the ticket")

        print("phone: 360 px wide")
        customer.set_window_size(360, 740)
        customer.refresh()
        wait_message(customer, "bot", "markup test:", "the chat on a phone")
        width = customer.execute_script(
            "var r = document.getElementById('sbw-panel').getBoundingClientRect(); return [r.left, r.right];")
        inner = customer.execute_script("return window.innerWidth")
        check(width[0] >= 0 and width[1] <= inner, f"the panel fits a {inner} px wide screen ({width})")
        customer.save_screenshot(str(artifacts / "widget-phone.png"))
        customer.find_element(By.ID, "sbw-input").send_keys(Keys.ESCAPE)
        wait_for(customer, lambda d: not d.find_element(By.ID, "sbw-panel").is_displayed(), "Escape to close")
        check(customer.switch_to.active_element.get_attribute("id") == "sbw-bubble",
              "Escape closes the panel and puts focus back on the bubble")

        print("customer: the server restarts mid-chat")
        customer.set_window_size(1280, 900)
        customer.find_element(By.ID, "sbw-bubble").click()
        wait_for(customer, lambda d: d.find_element(By.ID, "sbw-panel").is_displayed(), "the panel to open again")
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
        wait_for(customer, lambda d: d.find_element(By.ID, "sbw-root").get_attribute("data-state") == "offline",
                 "the widget to notice the server is gone")
        status = customer.find_element(By.ID, "sbw-status")
        check(status.is_displayed() and "offline" in status.text.lower(),
              f"the customer is told they are offline ('{status.text}')")
        customer.save_screenshot(str(artifacts / "widget-offline.png"))
        process, _ = start_server(binary, folder, db, http_port=int(base.rsplit(":", 1)[1]), log_name="serve-2.log")
        try:
            WebDriverWait(customer, 45).until(
                lambda d: d.find_element(By.ID, "sbw-root").get_attribute("data-state") == "online")
        except TimeoutException:
            raise Failure("the widget did not reconnect within 45 s of the server coming back")
        check(customer.find_element(By.ID, "sbw-root").get_attribute("data-session") == session,
              "the widget reconnects by itself and resumes the same chat")
        before = len(messages(customer, "bot"))
        say(customer, "what are your opening hours")
        wait_for(customer, lambda d: len(messages(d, "bot")) > before and "Monday" in messages(d, "bot")[-1],
                 "an answer after the restart")
        check(True, "the chat goes on after the restart")

        for name, driver in (("widget", customer), ("agent console", agent)):
            errors = console_errors(driver)
            check(not errors, f"no console errors in the {name}" + (f": {errors}" if errors else ""))
        print(f"browser test passed; screenshots in {artifacts}")
    finally:
        if sys.exc_info()[0] is not None:
            for name, driver in (("customer", customer), ("agent", agent)):
                if driver:
                    try:
                        driver.save_screenshot(str(artifacts / f"failure-{name}.png"))
                    except Exception:
                        pass
        for driver in (customer, agent):
            if driver:
                try:
                    driver.quit()
                except Exception:
                    pass
        if process and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in folder.glob("serve*.log"):
            shutil.copy(log, artifacts / log.name)
        shutil.rmtree(folder, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(ROOT / ".build" / "debug" / "supportbot"))
    parser.add_argument("--artifacts", default=str(ROOT / ".build" / "browser-artifacts"))
    args = parser.parse_args()
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"No supportbot binary at {args.binary}. Build first: swift build")
    artifacts = Path(args.artifacts)
    artifacts.mkdir(parents=True, exist_ok=True)
    try:
        run(args.binary, artifacts)
    except Failure as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        print(f"screenshots and serve.log in {artifacts}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
