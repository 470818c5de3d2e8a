#!/usr/bin/env python3
"""Writes a large pgAudit stderr log for the parsing benchmark.

Every record copies the shape of the captured fixture
(tests/fixtures/audit-logs/postgres.log, written by a real PostgreSQL 15 with
pgAudit 1.7): the same log_line_prefix, OBJECT and SESSION records per
statement, multi-line statements continued with a tab, bound parameters in
the last field, ERROR/STATEMENT pairs. 500 backends interleave; most
statements are the application's (app_svc), some are people's.

usage: pgaudit_gen.py SIZE_MB OUT
"""
import random
import sys
from datetime import datetime, timedelta

size = int(sys.argv[1]) * 1024 * 1024
out = open(sys.argv[2], "w", buffering=1 << 20)
rnd = random.Random(7)
PREFIX = "{t} UTC [{pid}] user={u} db=shop app={app} client=10.0.{a}.{b} "
USERS = [("app_svc", 85), ("u101", 8), ("u200", 5), ("u999", 2)]
TEMPLATES = [
    ("READ", "SELECT", "crm.customers", "SELECT first_name, email FROM crm.customers WHERE customer_id = {id}", "<none>"),
    ("READ", "SELECT", "crm.customers", "SELECT email FROM crm.customers WHERE customer_id = $1", "{id}"),
    ("READ", "SELECT", "crm.orders", "SELECT o.total, o.order_id FROM crm.orders o WHERE o.customer_id IN ({id}, {id2})", "<none>"),
    ("WRITE", "UPDATE", "crm.customers", "UPDATE crm.customers SET phone = '555-{id}' WHERE customer_id = {id}", "<none>"),
    ("READ", "SELECT", "crm.customers", "SELECT c.last_name /* email */, c.city\n\tFROM crm.customers c\n\tWHERE c.customer_id = {id} AND c.first_name <> 'it''s'", "<none>"),
    ("READ", "SELECT", "public.products", "SELECT name, price FROM public.products WHERE sku = '{id}'", "<none>"),
]
users = [u for u, w in USERS for _ in range(w)]
t = datetime(2026, 11, 2, 8, 0, 0)
stmt_ids = {}
written = 0
lines = []
while written < size:
    pid = 20000 + rnd.randrange(500)
    sid = stmt_ids.get(pid, 0) + 1
    stmt_ids[pid] = sid
    u = rnd.choice(users)
    cls, cmd, obj, text, param = rnd.choice(TEMPLATES)
    cid = 10001 + rnd.randrange(20000)
    text = text.format(id=cid, id2=cid + 1)
    param = param.format(id=cid)
    quoted = '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n') else text
    t += timedelta(microseconds=rnd.randrange(200, 2000))
    ts = t.strftime("%Y-%m-%d %H:%M:%S.") + f"{t.microsecond // 1000:03d}"
    pre = PREFIX.format(t=ts, pid=pid, u=u, app="shop-api" if u == "app_svc" else "psql", a=pid % 250, b=sid % 250)
    buf = []
    for kind in ("OBJECT", "SESSION"):
        buf.append(f"{pre}LOG:  AUDIT: {kind},{sid},1,{cls},{cmd},TABLE,{obj},{quoted},{param}\n")
    if rnd.randrange(200) == 0:
        buf.append(f"{pre}ERROR:  canceling statement due to statement timeout\n")
        buf.append(f"{pre}STATEMENT:  {text}\n")
    s = "".join(buf)
    out.write(s)
    written += len(s)
out.close()
