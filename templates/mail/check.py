#!/usr/bin/env python3
"""Validate the Guichet e-mail templates (templates/mail/<locale>/<kind>.{txt,html}).

The Rust side renders these files with minijinja 2; this script uses Python's
jinja2 with the same defaults (no trim_blocks, no lstrip_blocks, trailing
newline dropped, auto-escaping only for names ending in ".html").

For every kind and both locales it renders the sample contexts below (which
document the variables each kind receives) and checks that:

  * every template parses and uses only the variables listed for its kind
    (plus locale, base_url and, in layout.html, subject);
  * the first line of a .txt is "Subject: ..." and the second line is empty,
    the body is tidy (no trailing spaces, no double blank lines) and the text
    ends with the signature "— Guichet", or with the unsubscribe line when
    an unsubscribe_url is given;
  * the .html is a full document from layout.html (doctype, lang, charset,
    <title> = escaped subject), contains no "<script>" although the title
    sample holds one, and loads no external resources;
  * no output contains "{{" or "{%";
  * every variable given to a kind appears in both outputs (escaped in HTML);
  * boolean / enum variables (assigned, escalation, reason, on_desk, status)
    produce a distinct message for each value;
  * submitter-facing messages never show the tracking token, internal notes,
    scores or staff e-mail addresses (passed in the context as traps).

Run:  python3 templates/mail/check.py          (checks, exit status 1 on error)
      python3 templates/mail/check.py --show   (also prints every rendering)
"""

import itertools
import pathlib
import sys

import jinja2
import jinja2.meta
from markupsafe import escape

HERE = pathlib.Path(__file__).resolve().parent
LOCALES = ("en", "fr")
BASE_URL = "https://guichet.example"
SIGNATURE = "— Guichet"

ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(HERE)),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,  # stricter than minijinja's default
    trim_blocks=False,
    lstrip_blocks=False,
    keep_trailing_newline=False,
)

# ---------------------------------------------------------------------------
# Sample values (dates and labels arrive already localised).
# ---------------------------------------------------------------------------
DATE = {
    "en": "Tuesday 8 December 2026, 18:00 (Paris time)",
    "fr": "mardi 8 décembre 2026, 18:00 (heure de Paris)",
}
DATE2 = {
    "en": "Wednesday 9 December 2026, 18:00 (Paris time)",
    "fr": "mercredi 9 décembre 2026, 18:00 (heure de Paris)",
}
CHANGED_AT = {
    "en": "Monday 7 December 2026, 09:12 (Paris time)",
    "fr": "lundi 7 décembre 2026, 09:12 (heure de Paris)",
}
INQUIRY_TYPE = {"en": "Clinical trial", "fr": "Essai clinique"}
DECLINE_REASON = {
    "en": "Outside our current research priorities",
    "fr": "Hors de nos priorités de recherche actuelles",
}
TITLE = 'KRAS G12C inhibitor in first-line NSCLC <script>alert("x")</script>'
ORGANIZATION = "Acme & Partners Therapeutics"
BODY = (
    "Hello,\n\nPlease find the protocol synopsis attached to our inquiry.\n"
    "Can we <b>schedule</b> a call next week?\n\nBest regards,\nJane"
)
LINK = BASE_URL + "/console/referrals/8f2c1a7e"
UNSUBSCRIBE = BASE_URL + "/unsubscribe/reminders/Zm9vYmFy"
RESET_LINK = BASE_URL + "/console/password-reset?token=rst_5d0b6c2e9a"

# Values that must never reach a submitter (given as traps).
TRAPS = {
    "tracking_token": "trk_SECRET_7c41f0",
    "internal_note": "INTERNAL NOTE: low priority",
    "score": "0.8731",
    "staff_email": "triage@curie.example",
}

# Variables each kind may use (and, when given, must print).
PRINTED = {
    "referral_new": ["reference", "title", "organization", "inquiry_type",
                     "institution_name", "due_at", "link"],
    "referral_assigned": ["reference", "title", "organization", "inquiry_type",
                          "institution_name", "due_at", "link"],
    "submitter_replied": ["reference", "title", "institution_name",
                          "organization", "body", "link"],
    "inquiry_withdrawn": ["reference", "title", "institution_name",
                          "organization", "link"],
    "sla_due_soon": ["reference", "title", "institution_name", "due_at",
                     "link", "unsubscribe_url"],
    "sla_breached": ["reference", "title", "institution_name", "due_at",
                     "link", "unsubscribe_url"],
    "endpoint_disabled": ["endpoint_url", "institution_name", "link"],
    "password_reset": ["link", "expires_minutes"],
    "password_changed": ["changed_at"],
    "inquiry_received": ["name", "reference", "title", "referrals",
                         "base_url"],
    "inquiry_routed": ["name", "reference", "title", "referrals", "base_url"],
    "message_received": ["name", "reference", "title", "institution_name",
                         "body", "base_url"],
    "status_changed": ["name", "reference", "title", "institution_name",
                       "decline_reason", "forwarded_to", "base_url"],
}
# Variables that select a branch and are not printed themselves.
SELECTORS = {
    "referral_new": ["assigned"],
    "sla_breached": ["escalation"],
    "endpoint_disabled": ["reason"],
    "inquiry_received": ["on_desk"],
    "status_changed": ["status"],
}
SUBMITTER_KINDS = {"inquiry_received", "inquiry_routed", "message_received",
                   "status_changed"}
REMINDER_KINDS = {"sla_due_soon", "sla_breached"}
QUOTE_KINDS = {"submitter_replied", "message_received"}
COMMON = {"locale", "base_url"}
LAYOUT_VARS = {"locale", "subject", "base_url", "unsubscribe_url",
               "institution_name"}


def referrals(locale, n=2):
    rows = [
        {"institution_name": "Institut Curie", "due_at": DATE[locale]},
        {"institution_name": "Gustave Roussy", "due_at": DATE2[locale]},
    ]
    return rows[:n]


def contexts(kind, locale):
    """Sample contexts for one kind: a list of (label, context)."""
    staff = {
        "reference": "GU-2026-000042",
        "title": TITLE,
        "organization": ORGANIZATION,
        "inquiry_type": INQUIRY_TYPE[locale],
        "institution_name": "Institut Curie",
        "due_at": DATE[locale],
        "link": LINK,
    }
    submitter = {
        "name": "Jane Doe",
        "reference": "GU-2026-000042",
        "title": TITLE,
        **TRAPS,
    }

    def pick(src, *keys, **extra):
        return {**{k: src[k] for k in keys}, **extra}

    if kind == "referral_new":
        return [("assigned", dict(staff, assigned=True)),
                ("unassigned", dict(staff, assigned=False))]
    if kind == "referral_assigned":
        return [("default", dict(staff))]
    if kind == "submitter_replied":
        return [("default", pick(staff, "reference", "title",
                                 "institution_name", "organization", "link",
                                 body=BODY))]
    if kind == "inquiry_withdrawn":
        return [("default", pick(staff, "reference", "title",
                                 "institution_name", "organization", "link"))]
    reminder = pick(staff, "reference", "title", "institution_name",
                    "due_at", "link")
    if kind == "sla_due_soon":
        return [("unsubscribe", dict(reminder, unsubscribe_url=UNSUBSCRIBE)),
                ("no-unsubscribe", dict(reminder))]
    if kind == "sla_breached":
        return [("escalation", dict(reminder, escalation=True,
                                    unsubscribe_url=UNSUBSCRIBE)),
                ("contact", dict(reminder, escalation=False,
                                 unsubscribe_url=UNSUBSCRIBE)),
                ("contact-none-unsubscribe",
                 dict(reminder, escalation=False, unsubscribe_url=None))]
    if kind == "endpoint_disabled":
        url = "https://hooks.partner.example/guichet?x=1&y=2"
        return [(f"{reason}-{scope}",
                 {"endpoint_url": url, "reason": reason,
                  "institution_name": inst,
                  "link": BASE_URL + "/console/webhooks/3"})
                for reason in ("failing", "gone")
                for scope, inst in (("institution", "Institut Curie"),
                                    ("platform", None))]
    if kind == "password_reset":
        return [("default", {"link": RESET_LINK, "expires_minutes": 30})]
    if kind == "password_changed":
        return [("default", {"changed_at": CHANGED_AT[locale]})]
    if kind == "inquiry_received":
        return [("routed", dict(submitter, on_desk=False,
                                referrals=referrals(locale))),
                ("on-desk", dict(submitter, on_desk=True, referrals=[]))]
    if kind == "inquiry_routed":
        return [("two", dict(submitter, referrals=referrals(locale))),
                ("one", dict(submitter, referrals=referrals(locale, 1)))]
    if kind == "message_received":
        return [("default", dict(submitter, institution_name="Institut Curie",
                                 body=BODY))]
    if kind == "status_changed":
        base = dict(submitter, institution_name="Institut Curie")
        return [
            ("info_requested", dict(base, status="info_requested",
                                    decline_reason=None, forwarded_to=None)),
            ("accepted", dict(base, status="accepted",
                              decline_reason=None, forwarded_to=None)),
            ("declined", dict(base, status="declined",
                              decline_reason=DECLINE_REASON[locale],
                              forwarded_to=None)),
            ("declined-no-reason", dict(base, status="declined",
                                        decline_reason=None,
                                        forwarded_to=None)),
            ("declined-reason-absent", dict(base, status="declined")),
            ("forwarded", dict(base, status="forwarded", decline_reason=None,
                               forwarded_to="Institut Pasteur")),
            ("forwarded-unknown", dict(base, status="forwarded",
                                       decline_reason=None,
                                       forwarded_to=None)),
        ]
    raise KeyError(kind)


# ---------------------------------------------------------------------------
errors = []
warnings = []


def fail(where, msg):
    errors.append(f"{where}: {msg}")


def given_values(kind, ctx):
    """(name, value) pairs that must appear in the output."""
    out = []
    for name in PRINTED[kind]:
        if name == "base_url":
            out.append((name, BASE_URL))
            continue
        if name not in ctx or ctx[name] is None:
            continue
        if name == "referrals":
            for r in ctx[name]:
                out.append(("referrals[].institution_name",
                            r["institution_name"]))
                out.append(("referrals[].due_at", r["due_at"]))
            continue
        out.append((name, str(ctx[name])))
    return out


def check_sources():
    """Parse every file and check which variables it references."""
    expected = {f"{loc}/{kind}.{ext}" for loc in LOCALES for kind in PRINTED
                for ext in ("txt", "html")} | {"layout.html"}
    found = {str(p.relative_to(HERE)) for p in HERE.rglob("*")
             if p.suffix in (".txt", ".html")}
    for missing in sorted(expected - found):
        fail(missing, "missing template")
    for extra in sorted(found - expected):
        fail(extra, "unexpected template")
    for rel in sorted(expected & found):
        src = (HERE / rel).read_text(encoding="utf-8")
        try:
            ast = ENV.parse(src)
        except jinja2.TemplateSyntaxError as exc:
            fail(rel, f"syntax error: {exc}")
            continue
        used = jinja2.meta.find_undeclared_variables(ast)
        if rel == "layout.html":
            allowed = LAYOUT_VARS
        else:
            kind = pathlib.Path(rel).stem
            allowed = COMMON | set(PRINTED[kind]) | set(SELECTORS.get(kind, []))
            if kind in REMINDER_KINDS:
                allowed |= {"unsubscribe_url"}
        for name in sorted(used - allowed):
            fail(rel, f"uses a variable that is not listed: {name}")
        low = src.lower()
        for bad in ("<script", "<img", "<link", "<style", "src=", "@import",
                    "url("):
            if bad in low:
                fail(rel, f"contains {bad!r}")
        if rel.endswith(".html") and rel != "layout.html":
            if not src.startswith('{% extends "layout.html" %}'):
                fail(rel, 'does not start with {% extends "layout.html" %}')
            if "{% block body %}" not in src or "{% endblock %}" not in src:
                fail(rel, "does not define {% block body %}")
        if rel.endswith(".txt"):
            if not src.startswith("Subject: "):
                fail(rel, "first line does not start with 'Subject: '")
            for n, line in enumerate(src.split("\n"), 1):
                if len(line) > 78 and "{{" not in line and "{%" not in line:
                    warnings.append(f"{rel}:{n}: {len(line)} characters")


def check_text(where, kind, ctx, out):
    lines = out.split("\n")
    if not lines[0].startswith("Subject: ") or len(lines[0]) <= 9:
        fail(where, f"first line is not a subject: {lines[0]!r}")
    if len(lines) < 3 or lines[1] != "":
        fail(where, "second line is not empty")
    elif not lines[2].strip():
        fail(where, "body starts with a blank line")
    if "\n\n\n" in out:
        fail(where, "two consecutive blank lines")
    for n, line in enumerate(lines, 1):
        if line != line.rstrip():
            fail(where, f"trailing whitespace on line {n}")
    unsub = ctx.get("unsubscribe_url")
    if SIGNATURE not in lines:
        fail(where, f"no signature line {SIGNATURE!r}")
    if unsub:
        if unsub not in lines[-1]:
            fail(where, "does not end with the unsubscribe URL")
    elif lines[-1] != SIGNATURE:
        fail(where, f"does not end with {SIGNATURE!r}: {lines[-1]!r}")
    return lines[0][len("Subject: "):]


def check_html(where, kind, ctx, out, subject, locale):
    if not out.startswith("<!DOCTYPE html>"):
        fail(where, "does not start with <!DOCTYPE html>")
    for needle in (f'<html lang="{locale}">', '<meta charset="utf-8">',
                   f"<title>{escape(subject)}</title>", SIGNATURE):
        if needle not in out:
            fail(where, f"missing {needle!r}")
    if "<script" in out.lower():
        fail(where, "contains <script>")
    if kind in QUOTE_KINDS and \
            '<blockquote style="white-space: pre-wrap' not in out:
        fail(where, "message body is not in a pre-wrap <blockquote>")
    unsub = ctx.get("unsubscribe_url")
    if unsub and f'href="{escape(unsub)}"' not in out:
        fail(where, "no unsubscribe link in the footer")
    if not unsub and ("unsubscribe" in out or "désabonner" in out):
        fail(where, "unsubscribe footer shown without unsubscribe_url")
    footer = {"en": "the single point of contact",
              "fr": "le point de contact unique"}[locale]
    if footer not in out:
        fail(where, "footer line missing")


def main():
    show = "--show" in sys.argv
    check_sources()
    renders = 0
    for kind in PRINTED:
        per_locale_outputs = {}
        for locale in LOCALES:
            outputs = {}
            for label, sample in contexts(kind, locale):
                ctx = dict(sample, locale=locale, base_url=BASE_URL)
                where = f"{locale}/{kind} [{label}]"
                try:
                    txt = ENV.get_template(f"{locale}/{kind}.txt").render(ctx)
                    subject = check_text(where + " .txt", kind, ctx, txt)
                    html = ENV.get_template(f"{locale}/{kind}.html").render(
                        dict(ctx, subject=subject))
                except jinja2.TemplateError as exc:
                    fail(where, f"render error: {exc!r}")
                    continue
                renders += 2
                check_html(where + " .html", kind, ctx, html, subject, locale)
                for ext, out in (("txt", txt), ("html", html)):
                    if "{{" in out or "{%" in out or "{#" in out:
                        fail(f"{where} .{ext}", "unrendered template syntax")
                    for name, value in given_values(kind, ctx):
                        shown = value if ext == "txt" else str(escape(value))
                        if shown not in out:
                            fail(f"{where} .{ext}",
                                 f"variable {name} not shown ({value!r})")
                    if kind in SUBMITTER_KINDS:
                        for name, value in TRAPS.items():
                            if value in out:
                                fail(f"{where} .{ext}",
                                     f"shows forbidden {name}")
                        if "@" in out:
                            fail(f"{where} .{ext}", "shows an e-mail address")
                outputs[label] = (txt, html,
                                  tuple(ctx.get(k) for k in SELECTORS.get(kind, [])))
                if show:
                    print(f"===== {where} .txt\n{txt}\n")
                    print(f"===== {where} .html\n{html}\n")
            # Every value of a selector must say something different.
            for (la, a), (lb, b) in itertools.combinations(outputs.items(), 2):
                if a[2] != b[2] and a[0] == b[0]:
                    fail(f"{locale}/{kind}",
                         f"variants {la} and {lb} render the same text")
            per_locale_outputs[locale] = outputs
        en, fr = per_locale_outputs.get("en", {}), per_locale_outputs.get("fr", {})
        for label in en.keys() & fr.keys():
            if en[label][0] == fr[label][0]:
                fail(f"{kind} [{label}]", "en and fr texts are identical")

    for w in warnings:
        print(f"warning: long static line in {w}")
    for e in errors:
        print(f"ERROR {e}")
    kinds = len(PRINTED)
    print(f"{kinds} kinds x {len(LOCALES)} locales, {renders} renderings, "
          f"{len(warnings)} warning(s), {len(errors)} error(s)")
    if errors:
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    main()
