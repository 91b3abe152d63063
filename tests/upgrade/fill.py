#!/usr/bin/env python3
"""Fills a running server of the oldest shipped version (commit 766acf1: accounts and sign-ins
only) through its API, and records what it answered for reads.

usage: fill.py BASE_URL SERVER_LOG ANSWERS_JSON

The server must run with ROUNDTABLE_LOG_FORMAT=json and no SMTP URL: the links it mails are read
from its log (each mail is logged with its body). The answers file lists, per account that still
exists, the password that must still sign in and the JSON answered for `GET /me` and
`GET /me/sign-ins`; and the sign-ins that must fail (a deleted account, a replaced password).
"""
import json
import re
import sys
import time
import urllib.error
import urllib.request

BASE, LOG, OUT = sys.argv[1], sys.argv[2], sys.argv[3]
API = BASE + "/api/v1"


def call(method, path, body=None, token=None, agent="fill.py"):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(API + path, data=data, method=method)
    request.add_header("User-Agent", agent)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as err:
        raw = err.read()
        return err.code, (json.loads(raw) if raw else None)


def ok(expected, answer, what):
    status, body = answer
    if status != expected:
        sys.exit(f"{what}: expected {expected}, got {status}: {body}")
    return body


def login(email, password, agent="fill.py"):
    return ok(200, call("POST", "/auth/login", {"email": email, "password": password}, agent=agent), f"login {email}")


def mailed_token(address, subject_word, seen=set()):
    """The newest token mailed to `address` whose subject contains `subject_word`."""
    deadline = time.time() + 15
    while time.time() < deadline:
        found = None
        with open(LOG) as log:
            for line in log:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if entry.get("to") != address or subject_word.lower() not in entry.get("subject", "").lower():
                    continue
                match = re.search(r"#token=([A-Za-z0-9_.~%-]+)", entry.get("body", ""))
                if match and match.group(1) not in seen:
                    found = match.group(1)
        if found:
            seen.add(found)
            return found
        time.sleep(0.2)
    sys.exit(f"no mail with {subject_word!r} to {address} in {LOG}")


people = [
    # email, password, display name, zone, locale
    ("ada@example.com", "ada-password-1815", "Ada Lovelace", "Europe/London", "en-GB"),
    ("ben@example.com", "ben-password-2001", "Ben", "America/New_York", "en-US"),
    ("cleo@example.com", "cleo-passwort-42", "Cléo Dupont", "Europe/Paris", "fr"),
    ("dan@example.com", "dan-password-0000", "Dan", "UTC", "en"),
    ("eve@example.com", "eve-password-old1", "Eve 李", "Asia/Shanghai", "zh-CN"),
]
passwords = {}
for email, password, name, zone, locale in people:
    body = {"email": email, "password": password, "display_name": name, "time_zone": zone, "locale": locale}
    ok(201, call("POST", "/auth/signup", body), f"signup {email}")
    passwords[email] = password

# Ada: two devices, one of them signed out; then a magic link.
phone = login("ada@example.com", passwords["ada@example.com"], agent="Ada's phone")
laptop = login("ada@example.com", passwords["ada@example.com"], agent="Ada's laptop")
ok(204, call("POST", "/auth/logout", {"refresh_token": laptop["refresh_token"]}), "logout")
ok(200, call("POST", "/auth/refresh", {"refresh_token": phone["refresh_token"]}, agent="Ada's phone"), "refresh")
ok(202, call("POST", "/auth/magic-links", {"email": "ada@example.com"}), "magic link")
ok(200, call("POST", "/auth/magic-links/redeem", {"token": mailed_token("ada@example.com", "sign")}), "redeem")

# Ben edits his profile.
ben = login("ben@example.com", passwords["ben@example.com"])
changes = {"display_name": "Ben Okafor", "time_zone": "Africa/Lagos", "locale": "en-NG"}
ok(200, call("PATCH", "/me", changes, token=ben["access_token"]), "patch me")

# Cleo confirms her address.
ok(204, call("POST", "/auth/email-verifications/redeem", {"token": mailed_token("cleo@example.com", "confirm")}),
   "verify email")

# Dan deletes his account.
dan = login("dan@example.com", passwords["dan@example.com"])
ok(204, call("DELETE", "/me", token=dan["access_token"]), "delete me")

# Eve resets her password.
ok(202, call("POST", "/auth/password-resets", {"email": "eve@example.com"}), "password reset")
reset = {"token": mailed_token("eve@example.com", "password"), "password": "eve-password-new2"}
ok(204, call("POST", "/auth/password-resets/redeem", reset), "redeem reset")
passwords["eve@example.com"] = "eve-password-new2"

accounts = []
for email, *_ in people:
    if email == "dan@example.com":
        continue
    reader = login(email, passwords[email], agent="upgrade reader")
    me = ok(200, call("GET", "/me", token=reader["access_token"]), "GET /me")
    sign_ins = ok(200, call("GET", "/me/sign-ins", token=reader["access_token"]), "GET /me/sign-ins")
    accounts.append({"email": email, "password": passwords[email], "me": me, "sign_ins": sign_ins})

refused = [
    {"email": "dan@example.com", "password": "dan-password-0000", "why": "the account was deleted"},
    {"email": "eve@example.com", "password": "eve-password-old1", "why": "the password was replaced"},
]
with open(OUT, "w") as out:
    json.dump({"accounts": accounts, "refused": refused}, out, indent=2, ensure_ascii=False)
    out.write("\n")
print(f"{len(accounts)} accounts recorded in {OUT}")
