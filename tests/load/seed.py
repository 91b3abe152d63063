#!/usr/bin/env python3
"""Seeds a running server for the load runs, through its public API only.

Creates the load user (load@example.com), a cohort it organizes, and MEMBERS-1 more members who
join through an invite link; then 19 more cohorts of the load user, each (and the first) with a
weekly series, so that the user's home screen (/me/sessions) draws on 20 cohorts.
Prints shell assignments: TOKEN, COHORT on the first line; on the second SESSION (the load
cohort's first session), SESSIONS (its first 20, comma-separated: a session's agenda holds at most
20 boxes, so spread-out skill shares go one per session) and TOKENS (a file holding the access
tokens of the MEMBERS-1 members, one a line; the load user's own is TOKEN).
Usage: seed.py BASE_URL [MEMBERS] [TOKENS_FILE]   (TOKENS_FILE defaults to a new temporary file)
"""
import json
import sys
import tempfile
import urllib.request
from concurrent.futures import ThreadPoolExecutor

BASE = sys.argv[1]
MEMBERS = int(sys.argv[2]) if len(sys.argv) > 2 else 500
TOKENS = sys.argv[3] if len(sys.argv) > 3 else tempfile.mkstemp(prefix="roundtable-load-tokens.")[1]
PASSWORD = "correct horse battery"


def call(method, path, body=None, token=None):
    request = urllib.request.Request(BASE + path, method=method, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", "Bearer " + token)
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"null")


def account(email):
    call("POST", "/api/v1/auth/signup", {"email": email, "password": PASSWORD, "display_name": email.split("@")[0], "time_zone": "UTC"})
    return call("POST", "/api/v1/auth/login", {"email": email, "password": PASSWORD})["access_token"]


token = account("load@example.com")
cohort = call("POST", "/api/v1/cohorts", {"name": "Load cohort", "time_zone": "Europe/Berlin"}, token)["id"]
code = call("POST", f"/api/v1/cohorts/{cohort}/invite-links", {}, token)["code"]


def join(i):
    member_token = account(f"member{i:04d}@example.com")
    call("POST", "/api/v1/invite-links/join", {"code": code}, member_token)
    return member_token


with ThreadPoolExecutor(max_workers=4) as pool:
    member_tokens = list(pool.map(join, range(1, MEMBERS)))

weekly = {"rrule": "FREQ=WEEKLY", "local_time": "18:00", "duration_minutes": 90}
for i in range(20):
    target = cohort if i == 0 else call("POST", "/api/v1/cohorts", {"name": f"Cohort {i}", "time_zone": "Europe/Berlin"}, token)["id"]
    call("POST", f"/api/v1/cohorts/{target}/series", {**weekly, "starts_on": "2027-01-0%d" % (1 + i % 7)}, token)

count = call("GET", f"/api/v1/cohorts/{cohort}", token=token)["member_count"]
assert count == MEMBERS, f"expected {MEMBERS} members, found {count}"
sessions = [s["id"] for s in call("GET", f"/api/v1/cohorts/{cohort}/sessions?limit=20", token=token)["items"]]
assert len(sessions) == 20, f"expected 20 sessions, found {len(sessions)}"
with open(TOKENS, "w") as out:
    out.writelines(t + "\n" for t in member_tokens)
print(f"TOKEN={token} COHORT={cohort}")
print(f"SESSION={sessions[0]} SESSIONS={','.join(sessions)} TOKENS={TOKENS}")
