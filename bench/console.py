#!/usr/bin/env python3
"""The console's pages at scale, each beside the API call that reads the same data.

    console.py PORT EMAIL PASSWORD N [--smoke]

Signs in through the console's own form (one keep-alive connection to 127.0.0.1:PORT), then
for each page makes N sequential GETs (after 5 unmeasured ones) of the page and N of its API
counterpart with a bearer token of the same account, alternating page and API call so that both
see the same machine. Prints p50, p90 and p99 of each, and the ratio of the page's p50 to the
API's: what rendering HTML (templates, labels, a second query for the counts) adds to the read.
The issue's target is a page p50 under 50 ms at 100k referrals. Exits non-zero when a response
is not a 200: a figure of failed requests is no figure. --smoke: N is taken as is and the
target is not judged (CI runs it on a small database so that the script does not rot).
"""
import http.client
import json
import math
import re
import sys
import time
import urllib.parse


def percentile(values, p):
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1))
    return s[k]


class Client:
    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=60)
        self.cookies = {}

    def _cookies(self, response):
        for k, v in response.getheaders():
            if k.lower() == "set-cookie":
                pair, _, attrs = v.partition(";")
                name, _, value = pair.partition("=")
                if "Max-Age=0" in attrs:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = value

    def request(self, method, path, body=None, headers=None, expect=(200,)):
        h = dict(headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self.conn.request(method, path, body=body, headers=h)
        r = self.conn.getresponse()
        data = r.read()
        self._cookies(r)
        if r.status not in expect:
            sys.exit(f"{method} {path}: HTTP {r.status}: {data[:300]!r}")
        return r, data


def hidden(html, name):
    m = re.search(r'name="%s" value="([^"]*)"' % re.escape(name), html)
    if not m:
        sys.exit(f"no hidden field {name} in the page")
    return m.group(1).replace("&#x2f;", "/").replace("&amp;", "&")


def sign_in(c, email, password):
    _, data = c.request("GET", "/console/sign-in")
    html = data.decode()
    form = urllib.parse.urlencode({
        "token": hidden(html, "token"), "next": "/console/queue",
        "email": email, "password": password,
    })
    c.request("POST", "/console/sign-in", body=form,
              headers={"Content-Type": "application/x-www-form-urlencoded"}, expect=(303,))
    if "guichet_session" not in c.cookies:
        sys.exit("signing in set no session cookie")


def bearer(c, email, password):
    _, data = c.request("POST", "/v1/auth/token", body=json.dumps({"email": email, "password": password}),
                        headers={"Content-Type": "application/json"})
    return json.loads(data)["access_token"]


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    smoke = "--smoke" in sys.argv
    if len(args) != 4:
        sys.exit(__doc__)
    port, email, password, n = args[0], args[1], args[2], int(args[3])
    c = Client(port)
    sign_in(c, email, password)
    api = Client(port)
    token = bearer(api, email, password)
    auth = {"Authorization": "Bearer " + token, "Accept": "application/json"}

    # A deep page: the cursor of the 20th page of the default queue, through the API.
    cursor = None
    for _ in range(19):
        q = "/v1/referrals" + (f"?cursor={urllib.parse.quote(cursor)}" if cursor else "")
        _, data = api.request("GET", q, headers=auth)
        body = json.loads(data)
        if not body.get("next_cursor"):
            break
        cursor = body["next_cursor"]
    deep = f"cursor={urllib.parse.quote(cursor)}" if cursor else ""
    _, data = api.request("GET", "/v1/referrals?status=in_review", headers=auth)
    items = json.loads(data)["items"]
    if not items:
        sys.exit("no referral in review to show")
    referral = items[0]["id"]

    pairs = [
        ("queue, default order", "/console/queue", ["/v1/referrals", "/v1/referrals/summary"]),
        ("queue, new+in_review overdue", "/console/queue?status=new&status=in_review&overdue=true",
         ["/v1/referrals?status=new,in_review&overdue=true", "/v1/referrals/summary"]),
        ("queue, free text", "/console/queue?q=Pharma%2042", ["/v1/referrals?q=Pharma%2042", "/v1/referrals/summary"]),
        ("queue, page 20", "/console/queue?" + deep, ["/v1/referrals?" + deep, "/v1/referrals/summary"]),
        ("referral page", f"/console/referrals/{referral}",
         [f"/v1/referrals/{referral}", f"/v1/referrals/{referral}/events",
          "/v1/institutions/curie/contacts?limit=100", "/v1/institutions"]),
    ]
    print(f"    {'page':<32} {'page p50':>9} {'p90':>8} {'p99':>8}   {'API p50':>8} {'p90':>8} {'p99':>8}   ratio")
    worst = 0.0
    for label, page, calls in pairs:
        page_ms, api_ms = [], []
        for i in range(n + 5):
            t = time.perf_counter()
            c.request("GET", page)
            p = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            for call in calls:
                api.request("GET", call, headers=auth)
            a = (time.perf_counter() - t) * 1000
            if i >= 5:
                page_ms.append(p)
                api_ms.append(a)
        p50, a50 = percentile(page_ms, 50), percentile(api_ms, 50)
        worst = max(worst, p50)
        print(f"    {label:<32} {p50:7.2f}ms {percentile(page_ms, 90):6.2f}ms {percentile(page_ms, 99):6.2f}ms"
              f"   {a50:6.2f}ms {percentile(api_ms, 90):6.2f}ms {percentile(api_ms, 99):6.2f}ms   {p50 / a50:5.2f}")
    print(f"    API column: the same reads through the API ({', '.join('+'.join(x[2]) for x in pairs[:1])} for the queue)")
    if not smoke:
        verdict = "within" if worst < 50 else "OVER"
        print(f"    slowest page p50 {worst:.2f} ms: {verdict} the 50 ms target")


if __name__ == "__main__":
    main()
