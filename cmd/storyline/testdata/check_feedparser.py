"""Parse storyline's feeds with Python feedparser, as many readers do.

Usage: check_feedparser.py URL EXPECTED_ENTRIES NEED_CATEGORY ...
Prints one JSON object per URL: bozo, entries, problems, and the status of a
second request that sends back the ETag.
"""
import json
import sys

import feedparser

args = sys.argv[1:]
for i in range(0, len(args), 3):
    url, expected, need_category = args[i], int(args[i + 1]), args[i + 2] == "1"
    d = feedparser.parse(url)
    problems = []
    if d.bozo:
        problems.append("bozo: %r" % (d.get("bozo_exception"),))
    if len(d.entries) != expected:
        problems.append("%d entries, want %d" % (len(d.entries), expected))
    for n, e in enumerate(d.entries):
        if not e.get("title"):
            problems.append("entry %d: no title" % n)
        if not e.get("link"):
            problems.append("entry %d: no link" % n)
        if not (e.get("published_parsed") or e.get("updated_parsed")):
            problems.append("entry %d: no date" % n)
        if need_category and not e.get("tags"):
            problems.append("entry %d (%s): no category" % (n, e.get("title")))
    etag = d.get("etag")
    second = feedparser.parse(url, etag=etag) if etag else None
    print(json.dumps({
        "url": url,
        "version": d.get("version"),
        "entries": len(d.entries),
        "etag": etag,
        "second_status": second.get("status") if second is not None else None,
        "problems": problems,
    }))
