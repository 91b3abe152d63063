# A cohort played end to end against the built binary (SQLite, mail to the log): people sign up
# and confirm by the mailed link, join by a pasted invite URL, plan a rota, mark an absence, shorten
# a session, run and seed an experiment, offer a skill share with a waitlist that moves up and
# follows a cancelled session, meet the input rules, and get their reminders and notices from the
# server's own jobs (a place freed up, reminders planned ahead, a cover taken from a mailed link),
# subscribe to a calendar feed that follows a moved and a cancelled session, and receive the
# cohort's signed webhooks on a loopback receiver (checked with our own HMAC, not the server's).
# Usage: story.py PATH-TO-BINARY.
# Prints one line per check and ends with "N passed, N failed".
import json, re, subprocess, sys, time, urllib.request, os, tempfile
BIN = sys.argv[1]
d = tempfile.mkdtemp()
log = open(f"{d}/server.log", "w+")
env = dict(os.environ, ROUNDTABLE_NOTIFY_POLL_SECONDS="1", ROUNDTABLE_REMINDER_SWEEP_SECONDS="2", ROUNDTABLE_WEBHOOK_ALLOW_PRIVATE="true")
srv = subprocess.Popen([BIN, "--bind", "127.0.0.1:0", "--database-url", f"{d}/rt.db", "--log-format", "json"], stdout=subprocess.PIPE, stderr=log, text=True, env=env)
line = srv.stdout.readline(); base = line.strip().split()[-1]
print("server", base)
import atexit, shutil
atexit.register(lambda: (srv.poll() is None and srv.terminate(), shutil.rmtree(d, ignore_errors=True)))
def call(method, path, body=None, token=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None: req.add_header("content-type", "application/json")
    if token: req.add_header("authorization", "Bearer " + token)
    for k, v in (headers or {}).items(): req.add_header(k, v)
    try:
        with urllib.request.urlopen(req) as r:
            t = r.read(); return r.status, (json.loads(t) if t else None)
    except urllib.error.HTTPError as e:
        t = e.read(); return e.code, (json.loads(t) if t else None)
def mails_to(email, wait=10.0):
    """Every mail the server logged for `email` (it has no SMTP server here), waiting up to `wait` s for one."""
    deadline = time.time() + wait
    while True:
        log.flush(); found = []
        for raw in open(f"{d}/server.log"):
            try: f = json.loads(raw); f = f.get("fields", f)
            except ValueError: continue
            if f.get("to") == email: found.append(f)
        if found or time.time() > deadline: return found
        time.sleep(0.1)
def tokens_for(email, kind):
    for _ in range(100):
        log.flush(); found = []
        for raw in open(f"{d}/server.log"):
            try: f = json.loads(raw); f = f.get("fields", f)
            except ValueError: continue
            if f.get("to") == email:
                found += re.findall(r'/app/' + kind + r'#token=([A-Za-z0-9_-]+)', f.get("body", ""))
        if found: return found[-1]
        time.sleep(0.05)
    raise SystemExit(f"no {kind} mail for {email}")
checks = []
def expect(name, cond):
    checks.append((name, bool(cond))); print(("ok  " if cond else "FAIL"), name)
people = {}
for name in ["org", "ana", "ben", "cy", "dee"]:
    email = f"{name}@example.org"
    s, _ = call("POST", "/api/v1/auth/signup", {"email": email, "password": "long enough password", "display_name": name.title(), "time_zone": "Europe/Berlin"})
    s3, t = call("POST", "/api/v1/auth/login", {"email": email, "password": "long enough password"})
    s2, _ = call("POST", "/api/v1/auth/email-verifications/redeem", {"token": tokens_for(email, "verify-email")}, t["access_token"])
    if s2 == 204: people[name] = t["access_token"]
expect("five people sign up, confirm by the mailed link and sign in", len(people) == 5)
org = people["org"]
s, cohort = call("POST", "/api/v1/cohorts", {"name": "Staff engineers", "time_zone": "Europe/Berlin"}, org)
cid = cohort["id"]
s, link = call("POST", f"/api/v1/cohorts/{cid}/invite-links", {}, org)
for n in ["ana", "ben", "cy", "dee"]:
    s, _ = call("POST", "/api/v1/invite-links/join", {"code": " " + link["url"] + " "}, people[n])
    expect(f"{n} joins with the whole invite URL pasted", s == 201)
s, e = call("POST", "/api/v1/cohorts", {"name": "x", "time_zone": "UTC", "colour": "red"}, org)
expect("an unknown field is 422 naming it", s == 422 and e["errors"][0]["field"] == "colour")
s, e = call("GET", f"/api/v1/cohorts/{cid}/members?limit=ten", token=org)
expect("a bad query number says so in plain words", s == 422 and e["errors"][0] == {"field": "limit", "code": "invalid_type", "message": "must be a whole number"})
s, page = call("GET", f"/api/v1/cohorts/{cid}/members?cursor=", token=org)
expect("an empty cursor is the first page", s == 200 and len(page["items"]) == 5)
import datetime
start = (datetime.date.today() + datetime.timedelta(days=7)).isoformat()
s, series = call("POST", f"/api/v1/cohorts/{cid}/series", {"rrule": "FREQ=WEEKLY;COUNT=6", "starts_on": start, "local_time": "18:00", "duration_minutes": 90}, org)
expect("a six-week series is scheduled", s == 201)
s, sessions = call("GET", f"/api/v1/cohorts/{cid}/sessions", token=org)
ids = [x["id"] for x in sessions["items"]]
expect("six sessions stored", len(ids) == 6)
s, plan = call("POST", f"/api/v1/cohorts/{cid}/rota/plan", {"weeks": 8}, org)
s, rota = call("GET", f"/api/v1/cohorts/{cid}/rota", token=org)
def holders(r):
    return {(a["session_id"], a["role"]["name"] if isinstance(a.get("role"), dict) else a.get("role_id")): a.get("user_id") for s_ in r["items"] for a in s_.get("duties", s_.get("assignments", []))}
before = holders(rota)
me = call("GET", "/api/v1/me", token=people["ana"])[1]
ana_duties = [k for k, v in before.items() if v == me["id"] and k[0] != ids[0]]
expect("ana holds a duty somewhere in the plan", len(ana_duties) > 0)
target = ana_duties[-1][0]
s, _ = call("POST", f"/api/v1/cohorts/{cid}/absences", {"session_id": target}, people["ana"])
after = holders(call("GET", f"/api/v1/cohorts/{cid}/rota", token=org)[1])
moved = [k for k in before if before[k] != after.get(k)]
expect(f"one absence moves only ana's duties in that session ({len(moved)} moved)", all(k[0] == target and before[k] == me["id"] for k in moved) and len(moved) >= 1)
s, session = call("GET", f"/api/v1/sessions/{ids[1]}", token=org)
s, shorter = call("PATCH", f"/api/v1/sessions/{ids[1]}", {"duration_minutes": 45}, org)
agenda = shorter.get("agenda", [])
s2, _ = call("PUT", f"/api/v1/sessions/{ids[1]}/agenda", {"items": [{k: v for k, v in a.items() if k in ("id", "title", "minutes", "kind")} for a in agenda]}, org)
expect(f"a shortened session keeps an agenda that fits and is accepted back ({sum(a.get('minutes', 0) for a in agenda)} min in 45)", s == 200 and s2 == 200 and sum(a.get("minutes", 0) for a in agenda) <= 45)
s, ex = call("POST", f"/api/v1/cohorts/{cid}/experiments", {"title": "Run a design review", "success_signal": "two decisions"}, people["ben"])
eid = ex["id"]
expect("an experiment names its owner", ex["owner"]["display_name"] == "Ben")
call("POST", f"/api/v1/experiments/{eid}/check-ins", {"done": "booked"}, people["ben"])
call("PATCH", f"/api/v1/experiments/{eid}", {"state": "done", "outcome": {"result": "worked", "learned": "ask early", "next_step": "do it monthly"}}, people["ben"])
s1, a = call("POST", f"/api/v1/experiments/{eid}/seed-next", None, people["ben"])
s2, b = call("POST", f"/api/v1/experiments/{eid}/seed-next", None, people["ben"])
expect("seed-next twice gives one experiment", (s1, s2) == (201, 200) and a["id"] == b["id"])
s, c1 = call("POST", f"/api/v1/experiments/{eid}/celebrations", None, people["cy"])
expect("celebrating answers the count", s == 201 and c1 == {"celebrations": 1, "celebrated_by_me": True})
s, _ = call("POST", f"/api/v1/experiments/{eid}/comments", {"body": "great"}, people["dee"], {"Idempotency-Key": "dee-1"})
dee = call("GET", "/api/v1/me", token=people["dee"])[1]
call("DELETE", f"/api/v1/cohorts/{cid}/members/{dee['id']}", None, org)
s, _ = call("POST", f"/api/v1/experiments/{eid}/comments", {"body": "great"}, people["dee"], {"Idempotency-Key": "dee-1"})
expect("a removed member's replay is 404, not the stored 201", s == 404)
s, e = call("POST", "/api/v1/invite-links/join", {"code": link["code"]}, people["dee"])
expect("a removed member cannot rejoin by link", s == 403 and e["code"] == "removed_from_cohort")
s, e = call("POST", f"/api/v1/cohorts/{cid}/experiments", {"title": "a\u0000b", "success_signal": "s"}, people["ana"])
expect("NUL is 422 naming the field", s == 422 and e["errors"][0]["field"] == "title")
s, share = call("POST", f"/api/v1/sessions/{ids[2]}/skill-shares", {"title": "Reading a flame graph", "summary": "find the hot path", "minutes": 20, "capacity": 1}, people["ben"])
expect("ben offers a skill share with one place; it goes on the agenda", s == 201 and share["status"] == "approved" and share["agenda"]["position"] == 1)
sid = share["id"]
s1, cy_in = call("POST", f"/api/v1/skill-shares/{sid}/signups", None, people["cy"])
s2, ana_wait = call("POST", f"/api/v1/skill-shares/{sid}/signups", None, people["ana"])
expect("cy takes the place, ana waits first in line", (s1, s2) == (201, 201) and cy_in["status"] == "attending" and ana_wait["status"] == "waitlisted" and ana_wait["position"] == 1)
home = call("GET", "/api/v1/me/sessions", token=people["ana"])[1]
mine = [m for x in home["items"] for m in x["my_skill_shares"]]
expect("ana's home screen shows her place in line", mine == [{"id": sid, "title": "Reading a flame graph", "my_status": "waitlisted", "my_position": 1}])
call("DELETE", f"/api/v1/skill-shares/{sid}/signups/me", None, people["cy"])
expect("cy leaves and ana moves up", call("GET", f"/api/v1/skill-shares/{sid}", token=people["ana"])[1]["my_status"] == "attending")
s, _ = call("PATCH", f"/api/v1/sessions/{ids[2]}", {"status": "cancelled", "cancel_reason": "office closed"}, org)
back = call("GET", f"/api/v1/skill-shares/{sid}", token=people["ben"])[1]
expect("the session is cancelled and the skill share is offered back to ben", s == 200 and back["status"] == "offered_back")
s, moved = call("PATCH", f"/api/v1/skill-shares/{sid}", {"session_id": ids[3]}, people["ben"])
later = call("GET", f"/api/v1/sessions/{ids[3]}", token=org)[1]
expect("ben moves it to the next session; ana keeps her place; it is on that agenda", s == 200 and moved["status"] == "approved" and moved["attending_count"] == 1 and any(a["id"] == sid for a in later["agenda"]))
# Reminders and notices, by the server's own jobs (notifier every second, planning every 2 s).
def wait_for(pred, wait=15.0):
    deadline = time.time() + wait
    while time.time() < deadline:
        got = pred()
        if got: return got
        time.sleep(0.2)
    return None
promoted = wait_for(lambda: [m for m in mails_to("ana@example.org", 0) if "You have a place" in m.get("subject", "")])
expect("ana is mailed that the place is hers", promoted)
planned = wait_for(lambda: [n for n in call("GET", "/api/v1/me/notifications", token=people["ana"])[1]["items"] if n["kind"] == "session_soon" and n["status"] == "planned"])
expect("ana's session reminders are planned ahead and listed", planned)
ids_of = {n: call("GET", "/api/v1/me", token=people[n])[1]["id"] for n in ["org", "ana", "ben", "cy"]}
rota_now = call("GET", f"/api/v1/cohorts/{cid}/rota", token=org)[1]
first = [a for s_ in rota_now["items"] if s_["session_id"] == ids[0] for a in s_["duties"] if a.get("user_id")]
asker = next(n for n in ["ana", "ben", "cy", "org"] if any(a["user_id"] == ids_of[n] for a in first))
duty = next(a for a in first if a["user_id"] == ids_of[asker])
s, ask = call("POST", f"/api/v1/assignments/{duty['id']}/swap-requests", {"kind": "cover"}, people[asker])
def cover_link():
    for n in [n for n in ids_of if n != asker]:
        for m in mails_to(f"{n}@example.org", 0):
            if m.get("subject", "").startswith("Cover needed"):
                found = re.findall(r'(http://\S+/a/[A-Za-z0-9_-]+)', m.get("body", ""))
                if found: return found[0]
url = wait_for(cover_link)
page = urllib.request.urlopen(url).read().decode() if url else ""
expect(f"{asker} asks for cover; a free member is mailed it with a link whose page has one button", url and 'method="post"' in page)
taken = None
if url:
    req = urllib.request.Request(url, data=b"", method="POST", headers={"content-type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(req) as r: taken = r.status
state = call("GET", f"/api/v1/cohorts/{cid}/swap-requests", token=org)[1]
expect("pressing it takes the cover", taken == 200 and any(x["id"] == ask["id"] and x["state"] == "accepted" for x in state["items"]))

# Calendars: ana subscribes; the feed follows a moved and a cancelled session.
def feed(url, etag=None):
    req = urllib.request.Request(url, headers={"if-none-match": etag} if etag else {})
    try:
        with urllib.request.urlopen(req) as r: return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e: return e.code, e.headers, ""
def vevent(body, session_id):
    unfolded = body.replace("\r\n ", "")
    for block in unfolded.split("BEGIN:VEVENT")[1:]:
        props = dict(l.split(":", 1) for l in block.split("\r\n") if ":" in l)
        if props.get("UID", "").startswith(f"session-{session_id}@"): return props
s, made = call("POST", "/api/v1/me/calendar-feed", None, people["ana"])
furl = made["url"] if s == 201 else ""
st, h, body = feed(furl)
ev4 = vevent(body, ids[4])
expect("ana's calendar link answers text/calendar with her sessions", st == 200 and h["content-type"].startswith("text/calendar") and ev4 is not None and "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in body)
expect("an unchanged feed answers 304 to its ETag", feed(furl, h["etag"])[0] == 304)
new_start = (datetime.datetime.fromisoformat(call("GET", f"/api/v1/sessions/{ids[4]}", token=org)[1]["starts_at"].replace("Z", "+00:00")) + datetime.timedelta(hours=1)).isoformat()
call("PATCH", f"/api/v1/sessions/{ids[4]}", {"starts_at": new_start}, org)
st2, h2, body2 = feed(furl, h["etag"])
moved4 = vevent(body2, ids[4])
expect("a moved session keeps its UID with a higher SEQUENCE", st2 == 200 and moved4 and int(moved4["SEQUENCE"]) > int(ev4["SEQUENCE"]) and moved4["DTSTART"] != ev4["DTSTART"])
expect("the cancelled session stays in the feed as CANCELLED", (vevent(body2, ids[2]) or {}).get("STATUS") == "CANCELLED")
s, again = call("POST", "/api/v1/me/calendar-feed", None, people["ana"])
expect("a new link turns the old one off", s == 200 and feed(furl)[0] == 404 and feed(again["url"])[0] == 200)
# Webhooks: the organizer registers a loopback receiver for every public event.
import http.server, threading, hmac, hashlib, base64
received = []
class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        received.append((dict(self.headers), body)); self.send_response(204); self.end_headers()
    def log_message(self, *a): pass
hook_srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=hook_srv.serve_forever, daemon=True).start()
s, hook = call("POST", f"/api/v1/cohorts/{cid}/webhooks", {"url": f"http://127.0.0.1:{hook_srv.server_port}/hook", "events": ["*"], "description": "story"}, org)
expect("an organizer registers a webhook and sees its secret once", s == 201 and hook["secret"].startswith("whsec_"))
def signed(headers, body):
    key = base64.b64decode(hook["secret"][len("whsec_"):])
    mac = base64.b64encode(hmac.new(key, f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body, hashlib.sha256).digest()).decode()
    return f"v1,{mac}" in headers["webhook-signature"].split(" ")
s, secret_exp = call("POST", f"/api/v1/cohorts/{cid}/experiments", {"title": "Private thing", "success_signal": "s", "visibility": "private"}, people["ana"])
last_start = (datetime.datetime.fromisoformat(call("GET", f"/api/v1/sessions/{ids[5]}", token=org)[1]["starts_at"].replace("Z", "+00:00")) + datetime.timedelta(hours=1)).isoformat()
call("PATCH", f"/api/v1/sessions/{ids[5]}", {"starts_at": last_start}, org)
call("POST", f"/api/v1/webhooks/{hook['id']}/ping", None, org)
got = wait_for(lambda: [e for e in (json.loads(b) for _, b in received) if e["type"] == "session.moved" and e["data"]["subject_id"] == ids[5]])
pinged = wait_for(lambda: [json.loads(b) for _, b in received if json.loads(b)["type"] == "webhook.ping"])
expect("the moved session and a ping arrive, every one signed as Standard Webhooks says", got and pinged and all(signed(h_, b) for h_, b in received))
expect("a private experiment reaches no webhook", not any(secret_exp["id"].encode() in b for _, b in received))
ids_seen = [h_["webhook-id"] for h_, _ in received]
expect("no event is delivered twice", len(ids_seen) == len(set(ids_seen)))
log_page = call("GET", f"/api/v1/webhooks/{hook['id']}/deliveries", token=org)[1]
expect("the delivery log shows them delivered", log_page["items"] and all(x["status"] == "delivered" for x in log_page["items"]))
hook_srv.shutdown()
srv.terminate(); srv.wait()
bad = [n for n, ok in checks if not ok]
print(f"{len(checks) - len(bad)} passed, {len(bad)} failed")
sys.exit(1 if bad else 0)
