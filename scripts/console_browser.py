#!/usr/bin/env python3
"""The triage console in a real browser (issue 13, tests).

Drives Debian's headless Chromium through Debian's chromedriver with Selenium, against a
running Guichet (started by scripts/console_browser.sh, which also creates the accounts):

- the journey of a triager who gets the new-referral e-mail: the link signed out leads to the
  sign-in form, filled with the keyboard only (Tab, type, Enter; focus order email, password,
  button), back to the referral; an internal note; acknowledged, in review; a message to the
  submitter, whose reply (posted through the API) shows in the thread as theirs; accepted with a
  message; a forged CSRF token is refused with the 403 page and changes nothing; sign-out ends
  the session (the old cookie put back is refused too); a triager of another institution gets
  the 404 page for the same link;
- accessibility: axe-core (vendored under target/axe by the .sh, injected with execute_script,
  nothing from a CDN) on each page, failing on any serious or critical violation, and every
  form control labelled;
- a screenshot of each page in artifacts/console/ (not in git); with --docs the queue and the
  referral also go to docs/console-queue.png and docs/console-referral.png (README's images).

The browser is kept off the network: every host but 127.0.0.1 resolves nowhere.

    scripts/console_browser.sh [--docs]     # what CI runs; this file is not run by hand
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import traceback
import uuid
import urllib.error
import urllib.request
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

WINDOW = (1280, 900)
NOTE = "Checked with the radiopharmacy: we can produce the dose on site."
MESSAGE = "Could you send the dosimetry data of the preclinical studies?"
REPLY = "Thank you, the dosimetry data are in our data room."
ACCEPT = "We would be glad to host the trial at Institut Curie."

# More inquiries for Curie, so that the queue's picture shows a queue.
MORE = [
    ("Antibody-drug conjugate in HER2-low breast cancer", ["breast"], ["adc"], "phase_2",
     "co_development"),
    ("CAR-T in relapsed paediatric leukaemia", ["pediatric", "hematologic"], ["cell_therapy"],
     "phase_1", "clinical_trial"),
    ("AI triage of lung CT scans", ["lung"], ["digital_ai", "imaging"], "preclinical",
     "data_access"),
    ("Uveal melanoma organoid platform", ["skin_melanoma"], ["small_molecule"], "discovery",
     "platform_access"),
]


class Failure(Exception):
    """A promise of the console that the browser saw broken."""


def check(condition, what):
    if not condition:
        raise Failure(what)


def psma_inquiry(title="PSMA radioligand trial", areas=("prostate",),
                 modalities=("radiopharmaceutical",), stage="phase_1",
                 inquiry_type="clinical_trial"):
    """The inquiry of tests/api/support.rs `psma_inquiry` (routed to Curie), or a variant."""
    return {
        "submitter": {"organization": "Helios Therapeutics", "organization_type": "biotech",
                      "name": "Dr Anna Keller", "email": "anna@helios.example", "country": "DE"},
        "inquiry_type": inquiry_type,
        "title": title,
        "summary": f"{title}: first contact, looking for a clinical partner in France.",
        "therapeutic_areas": list(areas),
        "modalities": list(modalities),
        "stage": stage,
        "preferred_institutions": ["curie"],
        "non_confidential": True,
    }


class Api:
    """The few JSON calls of the journey (the submitter's side), with urllib."""

    def __init__(self, base):
        self.base = base

    def post(self, path, body, headers=None):
        req = urllib.request.Request(
            self.base + path, data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json", "Accept": "application/json",
                     **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=30) as res:
                return res.status, json.loads(res.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def submit(self, inquiry):
        status, body = self.post("/v1/inquiries", inquiry)
        check(status == 201, f"POST /v1/inquiries answered {status}: {body}")
        curie = [r for r in body["referrals"] if r["institution"]["id"] == "curie"]
        check(curie, f"the inquiry was not routed to Curie: {body['referrals']}")
        return body["id"], body["tracking_token"], curie[0]["id"]


class Console:
    """One headless Chromium and the checks run on its pages."""

    def __init__(self, base, axe_source, artifacts):
        self.base = base
        self.axe_source = axe_source
        self.artifacts = artifacts
        self.profile = tempfile.mkdtemp(prefix="guichet-console-chromium.")
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for flag in [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-default-apps", "--disable-extensions", "--mute-audio",
            "--hide-scrollbars", "--disable-dev-shm-usage", "--lang=en-GB",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            f"--window-size={WINDOW[0]},{WINDOW[1]}", f"--user-data-dir={self.profile}",
        ]:
            options.add_argument(flag)
        options.add_experimental_option("prefs", {"intl.accept_languages": "en-GB,en"})
        service = Service(executable_path="/usr/bin/chromedriver",
                          log_output=os.path.join(self.profile, "chromedriver.log"))
        self.driver = webdriver.Chrome(service=service, options=options)
        # The page itself is 1280x900 (the window's size would include the browser's frame).
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": WINDOW[0], "height": WINDOW[1], "deviceScaleFactor": 1, "mobile": False})
        self.driver.set_page_load_timeout(30)
        self.driver.set_script_timeout(60)
        self.wait = WebDriverWait(self.driver, 15)
        self.violations = {}

    def close(self):
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    # -- navigation -------------------------------------------------------------------------

    def open(self, path):
        self.driver.get(self.base + path)
        self.wait.until(lambda d: d.execute_script("return document.readyState") == "complete")

    def path(self):
        """The path and query of the current page (without its #fragment)."""
        return "/" + self.driver.current_url.split("/", 3)[3].split("#", 1)[0]

    def one(self, css):
        found = self.driver.find_elements(By.CSS_SELECTOR, css)
        check(len(found) == 1,
              f"{len(found)} elements match {css!r} on {self.path()}, expected one")
        return found[0]

    def texts(self, css):
        """The text of each element matching `css`, read in one script (one document)."""
        return self.driver.execute_script(
            "return Array.from(document.querySelectorAll(arguments[0]), e => e.innerText)", css)

    def none(self, css):
        check(not self.driver.find_elements(By.CSS_SELECTOR, css),
              f"{css!r} is on {self.path()} and should not be")

    def mark(self):
        """Marks the current document, for `wait_for_next_page`."""
        token = uuid.uuid4().hex
        self.driver.execute_script("window.guichetPage = arguments[0]", token)
        return token

    def wait_for_next_page(self, token, what):
        """Waits until a new document (without the mark) is loaded. Element references of the
        old page are not used for this: while Chromium navigates, chromedriver may answer them
        with an inspector error instead of "stale element"."""
        def loaded(d):
            try:
                return d.execute_script(
                    "return window.guichetPage !== arguments[0] && "
                    "document.readyState === 'complete'", token)
            except WebDriverException:
                return False  # between two documents
        try:
            self.wait.until(loaded)
        except TimeoutException as e:
            raise Failure(f"{what} on {self.path()} did not load a page") from e

    def submit_and_wait(self, button_css):
        """Clicks a submit button and waits for the next page."""
        token = self.mark()
        self.one(button_css).click()
        self.wait_for_next_page(token, f"clicking {button_css}")

    def status(self):
        return self.one("#referral-status").get_attribute("data-status")

    def error_status(self):
        return self.one("#error-status").get_attribute("data-status")

    # -- keyboard -----------------------------------------------------------------------------

    def active_id(self):
        return self.driver.execute_script(
            "var a = document.activeElement; if (!a) return null;"
            "return a.id || a.tagName.toLowerCase() + (a.className ? '.' + a.className : '');")

    def tab(self):
        ActionChains(self.driver).send_keys(Keys.TAB).perform()
        return self.active_id()

    def keys(self, *keys):
        ActionChains(self.driver).send_keys(*keys).perform()

    def keyboard_sign_in(self, email, password):
        """Fills and sends the sign-in form with the keyboard only; returns the ids focused by
        Tab before the e-mail field."""
        self.one("#sign-in-form")
        before = []
        for _ in range(10):
            focused = self.tab()
            if focused == "email":
                break
            before.append(focused)
        check(self.active_id() == "email",
              f"Tab never reached the e-mail field on the sign-in form (focused: {before})")
        # The field may keep the address of a failed attempt: select it all, type over it.
        ActionChains(self.driver).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL) \
            .send_keys(email).perform()
        check(self.tab() == "password", f"Tab from the e-mail field went to {self.active_id()}, "
              "not to the password field")
        self.keys(password)
        check(self.tab() == "sign-in", f"Tab from the password field went to "
              f"{self.active_id()}, not to the sign-in button")
        token = self.mark()
        self.keys(Keys.ENTER)
        self.wait_for_next_page(token, "Enter on the sign-in button")
        return before

    # -- accessibility and pictures ---------------------------------------------------------

    def unlabelled_controls(self):
        """Form controls (not hidden, not buttons) without a label: `<label for>`, an enclosing
        `<label>`, aria-label or aria-labelledby."""
        return self.driver.execute_script("""
            var bad = [];
            document.querySelectorAll('input, select, textarea').forEach(function (el) {
              if (el.type === 'hidden' || el.type === 'submit' || el.type === 'button') return;
              var byFor = el.id && document.querySelector('label[for="' + CSS.escape(el.id) + '"]');
              var around = el.closest('label');
              var aria = (el.getAttribute('aria-label') || '').trim() ||
                (el.getAttribute('aria-labelledby') || '').trim();
              if (!byFor && !around && !aria) bad.push(el.outerHTML.slice(0, 120));
            });
            return bad;""")

    def axe(self, page):
        """Runs axe-core on the current page; records and returns its violations."""
        if not self.driver.execute_script("return typeof window.axe === 'object'"):
            self.driver.execute_script(self.axe_source)
        result = self.driver.execute_async_script("""
            var done = arguments[arguments.length - 1];
            window.axe.run(document, {resultTypes: ['violations']})
              .then(function (r) { done({ok: true, violations: r.violations}); })
              .catch(function (e) { done({ok: false, error: String(e)}); });""")
        check(result and result.get("ok"), f"axe-core could not run on {page}: {result}")
        self.violations[page] = result["violations"]
        unlabelled = self.unlabelled_controls()
        check(not unlabelled, f"{page}: form controls without a label: {unlabelled}")
        return result["violations"]

    def screenshot(self, page, at=None):
        """The viewport, from the top of the page or from element `at`."""
        if at:
            self.driver.execute_script("document.querySelector(arguments[0]).scrollIntoView()", at)
        else:
            self.driver.execute_script("window.scrollTo(0, 0)")
        target = self.artifacts / f"{page}.png"
        check(self.driver.save_screenshot(str(target)), f"no screenshot for {page}")
        return target

    def page(self, name):
        """The checks of one page: axe-core, labels, a screenshot."""
        found = self.axe(name)
        shot = self.screenshot(name)
        serious = [v for v in found if v.get("impact") in ("serious", "critical")]
        print(f"    {name}: {len(found)} axe-core violations ({len(serious)} serious or "
              f"critical), screenshot {shot.name}")
        return shot


def describe(violations):
    lines = []
    for v in violations:
        targets = [", ".join(n.get("target", [])) for n in v.get("nodes", [])][:5]
        lines.append(f"[{v.get('impact')}] {v.get('id')}: {v.get('help')} -> {targets}")
    return lines


def journey(args, api, c):
    """The triager's journey; returns the screenshots to copy to docs/ with --docs."""
    inquiry, token, referral = api.submit(psma_inquiry())
    for title, areas, modalities, stage, kind in MORE:
        api.submit(psma_inquiry(title, areas, modalities, stage, kind))
    link = f"/console/referrals/{referral}"

    print("==> the e-mail's link, signed out: the sign-in form")
    c.open(link)
    check(c.path().startswith("/console/sign-in?next="),
          f"{link} signed out went to {c.path()}, not to the sign-in form")
    c.one("#sign-in-form")
    c.none("#sign-out")
    c.page("sign-in")

    print("==> a wrong password, with the keyboard: the form says so and keeps the link")
    before = c.keyboard_sign_in(args.curie_email, "not the password at all")
    print(f"    focus order: {' -> '.join(before + ['email', 'password', 'sign-in'])}")
    c.one("#sign-in-error")
    check(c.active_id() == "sign-in-error",
          f"the sign-in error is not focused (focus on {c.active_id()})")
    c.page("sign-in-error")

    print("==> signing in with the keyboard only (Tab, type, Enter)")
    before = c.keyboard_sign_in(args.curie_email, args.password)
    print(f"    focus order from the error: {' -> '.join(before + ['email', 'password', 'sign-in'])}")
    check(c.path() == link, f"after signing in the browser is on {c.path()}, not {link}")
    check(c.status() == "new", f"the referral is {c.status()}, expected new")
    check("PSMA radioligand trial" in c.one("h1").text, "the referral's title is not shown")
    c.one("#sign-out")
    c.one("#thread")
    c.one("#audit")
    c.one("#assign-form")

    print("==> an internal note")
    Select(c.one("#post-kind")).select_by_value("internal")
    c.one("#post-body").send_keys(NOTE)
    c.submit_and_wait("#post-submit")
    check(c.path() == link, f"posting the note went to {c.path()}")
    notes = c.texts("#thread article.note")
    check(any(NOTE in n for n in notes), f"the note is not in the thread as a note: {notes}")

    for to in ["acknowledged", "in_review"]:
        print(f"==> transition to {to}")
        c.submit_and_wait(f"#do-{to}")
        check(c.status() == to, f"after #do-{to} the referral is {c.status()}")
        c.none(f"#transition-{to}")

    print("==> a message to the submitter")
    Select(c.one("#post-kind")).select_by_value("external")
    c.one("#post-body").send_keys(MESSAGE)
    c.submit_and_wait("#post-submit")
    check(any(MESSAGE in m for m in c.texts("#thread article.message:not(.from-submitter)")),
          "the message is not in the thread as a message to the submitter")
    check(not any(MESSAGE in n for n in c.texts("#thread article.note")),
          "the message to the submitter is shown as an internal note")

    print("==> the submitter replies (API); after a reload the reply is in the thread")
    status, body = api.post(f"/v1/inquiries/{inquiry}/referrals/{referral}/messages",
                            {"body": REPLY}, {"X-Tracking-Token": token})
    check(200 <= status < 300, f"the submitter's reply was refused: {status} {body}")
    c.driver.refresh()
    replies = c.texts("#thread article.from-submitter")
    check(any(REPLY in r for r in replies), f"the reply is not shown as the submitter's: {replies}")
    referral_shot = c.page("referral")
    c.screenshot("referral-thread", at="#thread")

    print("==> a forged CSRF token: the 403 page, and nothing changes")
    c.driver.execute_script(
        "document.querySelector('#transition-accepted input[name=csrf]').value = 'forged';")
    c.submit_and_wait("#do-accepted")
    check(c.error_status() == "403", f"a forged CSRF token gave {c.error_status()}, not 403")
    c.one("#error-title")
    c.page("error-403")
    c.open(link)
    check(c.status() == "in_review", f"after the forged form the referral is {c.status()}")

    print("==> the queue lists the referral")
    c.open("/console/queue")
    c.one("#queue")
    c.one("#status-counts")
    rows = c.driver.find_elements(By.CSS_SELECTOR, f'#queue tr[data-referral="{referral}"]')
    check(len(rows) == 1, f"the queue has {len(rows)} rows for the referral")
    href = rows[0].find_element(By.CSS_SELECTOR, "a").get_attribute("href")
    check(href == c.base + link, f"the queue's link is {href}, not {c.base + link}")
    total = len(c.driver.find_elements(By.CSS_SELECTOR, "#queue tr[data-referral]"))
    check(total == 1 + len(MORE), f"the queue has {total} rows, expected {1 + len(MORE)}")
    queue_shot = c.page("queue")

    print("==> accepted, with a message")
    c.open(link)
    c.one("#transition-accepted-message").send_keys(ACCEPT)
    c.submit_and_wait("#do-accepted")
    check(c.status() == "accepted", f"after #do-accepted the referral is {c.status()}")
    c.one("#no-transitions")
    messages = c.texts("#thread article.message")
    check(any(ACCEPT in m for m in messages), f"the acceptance message is not in the thread")
    c.page("referral-accepted")

    print("==> signing out ends the session")
    session = [k for k in c.driver.get_cookies() if k["name"] == "guichet_session"]
    check(session, "no guichet_session cookie while signed in")
    check(session[0].get("httpOnly"), "the session cookie is not HttpOnly")
    check(session[0].get("sameSite") == "Strict", f"the session cookie is {session[0].get('sameSite')}")
    c.submit_and_wait("#sign-out")
    c.open("/console/queue")
    check(c.path().startswith("/console/sign-in"),
          f"after sign-out the queue went to {c.path()}, not to the sign-in form")
    c.one("#sign-in-form")
    # The old cookie put back by hand: the session is over on the server too.
    c.driver.add_cookie({k: session[0][k] for k in ("name", "value", "path") if k in session[0]})
    c.open("/console/queue")
    check(c.path().startswith("/console/sign-in"),
          f"the old session cookie still opens the queue ({c.path()}) after sign-out")

    print("==> a triager of another institution (Pasteur) opens the same link: the 404 page")
    c.driver.delete_all_cookies()
    c.open(link)
    c.keyboard_sign_in(args.pasteur_email, args.password)
    check(c.error_status() == "404", f"Pasteur's triager got {c.error_status()}, not 404")
    c.one("#error-title")
    check("PSMA" not in c.driver.page_source, "the 404 page shows something of the referral")
    c.page("error-404")
    c.open("/console/queue")
    c.none(f'tr[data-referral="{referral}"]')
    c.submit_and_wait("#sign-out")

    print("==> a reader whose browser asks for French gets the sign-in form in French")
    c.driver.execute_cdp_cmd("Network.enable", {})
    c.driver.execute_cdp_cmd("Network.setExtraHTTPHeaders",
                             {"headers": {"Accept-Language": "fr-FR,fr;q=0.9"}})
    c.open("/console/queue")
    check(c.path().startswith("/console/sign-in"), f"signed out, the queue went to {c.path()}")
    lang = c.driver.find_element(By.TAG_NAME, "html").get_attribute("lang")
    check(lang == "fr", f"the sign-in page is in {lang!r} for a French reader")
    check(c.one("h1").text == "Connexion à Guichet", f"the French title is {c.one('h1').text!r}")
    c.page("sign-in-fr")

    print("==> the checkers themselves: a control without a label is caught")
    c.driver.execute_script(
        "var i = document.createElement('input'); i.type = 'text'; i.id = 'canary';"
        "document.getElementById('main').appendChild(i);")
    c.driver.execute_script(c.axe_source)
    canary = c.driver.execute_async_script("""
        var done = arguments[arguments.length - 1];
        window.axe.run(document, {resultTypes: ['violations']})
          .then(function (r) { done(r.violations.map(function (v) { return [v.id, v.impact]; })); })
          .catch(function (e) { done(String(e)); });""")
    check(isinstance(canary, list) and ["label", "critical"] in canary,
          f"axe-core did not report an unlabelled input as critical: {canary}")
    check(c.unlabelled_controls(), "the label check did not catch an unlabelled input")
    return queue_shot, referral_shot


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--curie-email", required=True)
    parser.add_argument("--pasteur-email", required=True)
    parser.add_argument("--axe", required=True, help="path to axe.min.js")
    parser.add_argument("--artifacts", required=True, help="folder for the screenshots")
    parser.add_argument("--docs", help="docs/ folder: copy the queue and referral pictures there")
    args = parser.parse_args()
    args.password = os.environ.get("CONSOLE_BROWSER_PASSWORD")
    if not args.password:
        parser.error("CONSOLE_BROWSER_PASSWORD is not set (the accounts' password)")

    artifacts = Path(args.artifacts)
    artifacts.mkdir(parents=True, exist_ok=True)
    for old in artifacts.glob("*.png"):
        old.unlink()
    axe_source = Path(args.axe).read_text(encoding="utf-8")
    api = Api(args.base_url)
    try:
        c = Console(args.base_url, axe_source, artifacts)
    except WebDriverException as e:
        print(f"ERROR: cannot start headless Chromium through /usr/bin/chromedriver: {e.msg}",
              file=sys.stderr)
        return 1
    try:
        queue_shot, referral_shot = journey(args, api, c)
    except (Failure, WebDriverException) as e:
        try:
            c.screenshot("failure")
            (artifacts / "failure.html").write_text(c.driver.page_source, encoding="utf-8")
            where = c.path()
        except WebDriverException:
            where = "?"
        print(f"ERROR: console in the browser, on {where}: {e}", file=sys.stderr)
        if not isinstance(e, Failure):
            print("".join(traceback.format_exc(limit=-4)), file=sys.stderr)
        print(f"       (screenshot and DOM in {artifacts}/failure.*)", file=sys.stderr)
        return 1
    finally:
        c.close()

    failed = False
    print("==> axe-core, serious or critical violations per page")
    for page, violations in c.violations.items():
        serious = [v for v in violations if v.get("impact") in ("serious", "critical")]
        print(f"    {page}: {len(serious)} serious or critical, {len(violations)} in all")
        for line in describe(violations):
            print(f"      {line}")
        failed |= bool(serious)
    if failed:
        print("ERROR: axe-core found serious or critical accessibility violations (above)",
              file=sys.stderr)
        return 1
    if args.docs:
        docs = Path(args.docs)
        shutil.copyfile(queue_shot, docs / "console-queue.png")
        shutil.copyfile(referral_shot, docs / "console-referral.png")
        print(f"    copied the queue and referral screenshots to {docs}/console-*.png")
    print(f"==> console in the browser passed: {len(c.violations)} pages checked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
