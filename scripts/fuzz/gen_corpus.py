#!/usr/bin/env python3
"""Writes the fuzz corpora of tests/fuzz/ (pipeline.toml, netsec.lock, schema.yaml, CSV).

    scripts/fuzz/gen_corpus.py            # (re)writes tests/fuzz/{pipeline,lock,schema,csv}/
    scripts/fuzz/gen_corpus.py --big DIR  # writes the large cases (MBs) into DIR/<kind>/ only

Deterministic (seeded): rerunning it rewrites the same bytes. Each corpus is the hostile cases
of issue 17 in small form, hand-written, plus seeded mutations (byte flips, truncations, line
drops and duplications) of a valid file. The large cases (50 MB garbage, 10 MB cells, 100,000
levels of nesting) are generated at replay time by `--big`, never committed.
"""

import os
import random
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FUZZ = os.path.join(ROOT, "tests", "fuzz")

PIPELINE = b"""[params.ingest]
test_size = 0.2
seed = 42

[params.train]
folds = 5

[stages.ingest]
uses = "ingest"
deps = ["data/phisingData.csv", "schema.yaml"]
params = ["ingest"]
outs = ["artifacts/ingest/"]

[stages.make]
cmd = "cp in.txt out.txt"
deps = ["in.txt"]
outs = ["out.txt"]
"""

LOCK = b"""{
  "stages": {
    "make": {
      "fingerprint": {
        "action": {
          "cmd": [
            "cp in.txt out.txt"
          ],
          "kind": "command",
          "wdir": ""
        },
        "deps": {
          "in.txt": {
            "digest": "0b8b60248fad7ac6dfac221b7e01a8b91c772421a15b387dd1fb2d6a94aee438",
            "size": 3
          }
        },
        "format": 2,
        "outs": [
          "out.txt"
        ],
        "params": {}
      },
      "outs": {
        "out.txt": {
          "cache": true,
          "digest": "0b8b60248fad7ac6dfac221b7e01a8b91c772421a15b387dd1fb2d6a94aee438",
          "size": 3
        }
      }
    }
  },
  "version": 1
}
"""


def schema_text():
    with open(os.path.join(ROOT, "schema.yaml"), "rb") as f:
        return f.read()


def csv_text(rows=12):
    with open(os.path.join(ROOT, "data", "phisingData.csv"), "rb") as f:
        lines = f.read().split(b"\n")
    return b"\n".join(lines[: rows + 1]) + b"\n"


def mutations(base, rng, n):
    """Seeded byte-level and line-level mutations of `base`."""
    out = []
    for i in range(n):
        b = bytearray(base)
        op = i % 6
        if op == 0:  # flip a few bytes
            for _ in range(rng.randint(1, 4)):
                p = rng.randrange(len(b))
                b[p] ^= 1 << rng.randrange(8)
        elif op == 1:  # truncate
            b = b[: rng.randrange(len(b))]
        elif op == 2:  # drop a line
            lines = bytes(b).split(b"\n")
            del lines[rng.randrange(len(lines))]
            b = bytearray(b"\n".join(lines))
        elif op == 3:  # duplicate a line
            lines = bytes(b).split(b"\n")
            k = rng.randrange(len(lines))
            lines.insert(k, lines[k])
            b = bytearray(b"\n".join(lines))
        elif op == 4:  # insert a special byte
            p = rng.randrange(len(b))
            b[p:p] = rng.choice([b"\x00", b"\xff", b"\r", b'"', b"'", b"[", b"{", b"\t", b"\xe2\x80"])
        else:  # swap two lines
            lines = bytes(b).split(b"\n")
            i1, i2 = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[i1], lines[i2] = lines[i2], lines[i1]
            b = bytearray(b"\n".join(lines))
        out.append(bytes(b))
    return out


def pipeline_cases():
    p = PIPELINE
    cases = {
        "valid": p,
        "empty": b"",
        "invalid-utf8": p.replace(b"seed = 42", b"seed = \"\xff\xfe\""),
        "bom": b"\xef\xbb\xbf" + p,
        "nul-in-wdir": p + b'wdir = "a\\u0000b"\n',
        "nul-byte-raw": p.replace(b"cp in", b"cp\x00in"),
        "deep-array-200": b"x = " + b"[" * 200 + b"]" * 200 + b"\n",
        "deep-inline-table-200": b"x = " + b"{a = " * 200 + b"1" + b"}" * 200 + b"\n",
        "deep-header-100": b"[" + b".".join(b"a" for _ in range(100)) + b"]\n",
        "long-stage-name": p.replace(b"[stages.make]", b"[stages." + b"m" * 300 + b"]"),
        "control-in-stage-name": p.replace(b"[stages.make]", b'[stages."ma\\u001bke"]'),
        "unknown-stage-key": p.replace(b'cmd = "cp', b'cmmd = "cp'),
        "unknown-top-key": b"[stagez.a]\ncmd = \"true\"\n",
        "foreach": p + b"[stages.f]\nforeach = [1, 2]\ncmd = \"true\"\n",
        "out-git": p.replace(b'outs = ["out.txt"]', b'outs = [".git"]'),
        "out-netsec": p.replace(b'outs = ["out.txt"]', b'outs = [".netsec/cache"]'),
        "out-dotdot": p.replace(b'outs = ["out.txt"]', b'outs = ["../victim.txt"]'),
        "out-absolute": p.replace(b'outs = ["out.txt"]', b'outs = ["/etc/passwd"]'),
        "out-lock": p.replace(b'outs = ["out.txt"]', b'outs = ["netsec.lock"]'),
        "cycle": b'[stages.a]\ncmd = "true"\ndeps = ["b"]\nouts = ["a"]\n[stages.b]\ncmd = "true"\ndeps = ["a"]\nouts = ["b"]\n',
        "duplicate-out": p + b'[stages.again]\ncmd = "true"\nouts = ["out.txt"]\n',
        "empty-cmd": b'[stages.a]\ncmd = ""\nouts = ["a"]\n',
        "cmd-and-uses": b'[stages.a]\ncmd = "true"\nuses = "ingest"\n',
        "unknown-builtin": b'[stages.a]\nuses = "nope"\n',
        "missing-param": p.replace(b'params = ["ingest"]', b'params = ["ingest.nope"]'),
        "folds-zero": p.replace(b"folds = 5", b"folds = 0"),
        "test-size-negative": p.replace(b"test_size = 0.2", b"test_size = -1.0"),
        "test-size-string": p.replace(b"test_size = 0.2", b'test_size = "big"'),
        "huge-int": p.replace(b"seed = 42", b"seed = 99999999999999999999999"),
        "long-string": p.replace(b'cmd = "cp in.txt out.txt"', b'cmd = "' + b"x" * 20000 + b'"'),
        "duplicate-table": p + b"[stages.make]\ncmd = \"true\"\n",
        "with-unknown-arg": p.replace(b'uses = "ingest"', b'uses = "ingest"\nwith = { nope = "x" }'),
        "with-non-string": p.replace(b'uses = "ingest"', b'uses = "ingest"\nwith = { input = 3 }'),
        "remote-bad-url": p + b'[remotes.origin]\nurl = "s3://"\n',
        "tracking-bad": p + b"[tracking]\nnope = 1\n",
        "crlf": p.replace(b"\n", b"\r\n"),
        "unterminated-string": b'[stages.a]\ncmd = "true\n',
    }
    rng = random.Random(17)
    for i, m in enumerate(mutations(p, rng, 24)):
        cases[f"mut-{i:02}"] = m
    return cases


def lock_cases():
    l = LOCK
    cases = {
        "valid": l,
        "empty": b"",
        "not-json": b"version = 1\n",
        "invalid-utf8": l.replace(b"cp in.txt", b"cp \xff.txt"),
        "version-2": l.replace(b'"version": 1', b'"version": 2'),
        "version-string": l.replace(b'"version": 1', b'"version": "1"'),
        "out-dotdot": l.replace(b'"out.txt"', b'"../victim.txt"'),
        "out-absolute": l.replace(b'"out.txt"', b'"/etc/passwd"'),
        "out-netsec": l.replace(b'"out.txt"', b'".netsec/cache"'),
        "out-git": l.replace(b'"out.txt"', b'".git/hooks/pre-commit"'),
        "out-dot-segments": l.replace(b'"out.txt"', b'"a/../out.txt"'),
        "out-nul": l.replace(b'"out.txt"', b'"out\\u0000.txt"'),
        "out-empty": l.replace(b'"out.txt"', b'""'),
        "digest-short": l.replace(b'"0b8b60248fad', b'"0b8b'),
        "digest-not-hex": l.replace(b'"0b8b60248fad', b'"zzzz60248fad'),
        "digest-traversal": l.replace(b'"0b8b60248fad7ac6dfac221b7e01a8b91c772421a15b387dd1fb2d6a94aee438"', b'"../../../../etc/passwd"'),
        "size-negative": l.replace(b'"size": 3', b'"size": -3'),
        "size-huge": l.replace(b'"size": 3', b'"size": 1e400'),
        "unknown-stage": l.replace(b'"make"', b'"not-in-pipeline"'),
        "deep-json-200": b'{"stages": ' + b"[" * 200 + b"]" * 200 + b', "version": 1}',
        "stages-array": b'{"stages": [], "version": 1}',
        "null": b"null",
        "dup-keys": l.replace(b'"version": 1', b'"version": 1, "version": 1'),
        "bom": b"\xef\xbb\xbf" + l,
    }
    rng = random.Random(23)
    for i, m in enumerate(mutations(l, rng, 24)):
        cases[f"mut-{i:02}"] = m
    return cases


def schema_cases():
    s = schema_text()
    head = b"version: 1\ntarget:\n  column: Result\n  labels:\n    phishing: -1\n    legitimate: 1\n  positive: phishing\ncolumns:\n"
    cases = {
        "valid": s,
        "empty": b"",
        "version-2": s.replace(b"version: 1", b"version: 2"),
        "version-negative": s.replace(b"version: 1", b"version: -1"),
        "version-string": s.replace(b"version: 1", b'version: "one"'),
        "no-version": s.replace(b"version: 1\n", b""),
        "invalid-utf8": s.replace(b"target:", b"tar\xc3\x28get:"),
        "nul-byte": s.replace(b"target:", b"tar\x00get:"),
        "bom": b"\xef\xbb\xbf" + s,
        "deep-flow-200": s + b"extra: " + b"[" * 200 + b"\n",
        "deep-block-100": b"".join(b" " * i + b"k:\n" for i in range(100)),
        "deep-dashes-200": b"- " * 200 + b"x\n",
        "deep-mapping-flow": s + b"extra: " + b"{a: " * 150 + b"\n",
        "columns-empty": head + b"  []\n".replace(b"  []", b"") + b"",
        "columns-empty-list": s.split(b"columns:")[0] + b"columns: []\n",
        "duplicate-column": s.replace(b"name: URL_Length", b"name: having_IP_Address"),
        "unknown-dtype": s.replace(b"dtype: int64", b"dtype: text", 1),
        "allowed-empty": head + b"  - { name: a, dtype: int64, allowed: [] }\n",
        "allowed-fraction": head + b"  - { name: a, dtype: int64, allowed: [0.5] }\n",
        "three-labels": s.replace(b"    legitimate: 1\n", b"    legitimate: 1\n    other: 0\n"),
        "same-label-values": s.replace(b"legitimate: 1", b"legitimate: -1"),
        "positive-unknown": s.replace(b"positive: phishing", b"positive: spam"),
        "target-in-columns": head + b"  - { name: Result, dtype: int64 }\n",
        "long-name": head + b"  - { name: " + b"n" * 20000 + b", dtype: int64 }\n",
        "long-dtype": head + b"  - { name: a, dtype: " + b"z" * 20000 + b" }\n",
        "unknown-key": s.replace(b"version: 1", b"version: 1\nextra_key: 3"),
        "top-level-list": b"- 1\n- 2\n",
        "scalar": b"just text\n",
        "tabs": s.replace(b"  column: Result", b"\tcolumn: Result"),
        "anchors": b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n",
        "multi-document": s + b"---\n" + s,
        "crlf": s.replace(b"\n", b"\r\n"),
        "unterminated-quote": s.replace(b"column: Result", b'column: "Result'),
        "huge-number": s.replace(b"version: 1", b"version: 99999999999999999999"),
    }
    rng = random.Random(29)
    for i, m in enumerate(mutations(s, rng, 18)):
        cases[f"mut-{i:02}"] = m
    return cases


def csv_cases():
    c = csv_text()
    lines = c.split(b"\n")
    header, rows = lines[0], [l for l in lines[1:] if l]
    rng = random.Random(31)
    cases = {
        "valid": c,
        "empty": b"",
        "blank-lines": b"\n\n\n",
        "header-only": header + b"\n",
        "one-row": header + b"\n" + rows[0] + b"\n",
        "two-rows": header + b"\n" + rows[0] + b"\n" + rows[1] + b"\n",
        "bom": b"\xef\xbb\xbf" + c,
        "crlf": c.replace(b"\n", b"\r\n"),
        "no-final-newline": c.rstrip(b"\n"),
        "ragged-short": c.replace(rows[2], rows[2].rsplit(b",", 3)[0]),
        "ragged-long": c.replace(rows[2], rows[2] + b",1,1"),
        "duplicate-header": c.replace(b'"URL_Length"', b'"having_IP_Address"'),
        "many-duplicate-header": b",".join([b"x"] * 3000) + b"\n1\n",
        "renamed-column": c.replace(b'"URL_Length"', b'"url_length"'),
        "missing-label": c.replace(b',"Result"', b""),
        "wrong-type": c.replace(rows[3], b"abc" + rows[3][rows[3].index(b","):]),
        "out-of-domain": c.replace(rows[3], b"7" + rows[3][rows[3].index(b","):]),
        "empty-cells": c.replace(rows[4], b"," * rows[4].count(b",")),
        "nan-cells": c.replace(rows[4], rows[4].replace(b"-1", b"nan")),
        "label-out-of-domain": c.replace(rows[5], rows[5].rsplit(b",", 1)[0] + b",0"),
        "unbalanced-quote": c.replace(rows[2], b'"' + rows[2]),
        "quoted-newlines": c.replace(rows[2], b'"1\n"' + rows[2][rows[2].index(b","):]),
        "nul-bytes": c.replace(rows[2], rows[2].replace(b",", b",\x00", 2)),
        "invalid-utf8-header": c.replace(b'"Favicon"', b'"Fav\xff\xfeicon"'),
        "invalid-utf8-cell": c.replace(rows[3], b"\xff\xfe" + rows[3][rows[3].index(b","):]),
        "long-cell-64k": c.replace(rows[3], b"9" * 65536 + rows[3][rows[3].index(b","):]),
        "long-name-8k": c.replace(b'"Favicon"', b'"' + b"F" * 8192 + b'"'),
        "semicolons": c.replace(b",", b";"),
        "tabs": c.replace(b",", b"\t"),
        "ansi-escape-cell": c.replace(rows[3], b"\x1b[2J" + rows[3][rows[3].index(b","):]),
        "huge-int": c.replace(rows[3], b"99999999999999999999999" + rows[3][rows[3].index(b","):]),
        "garbage-4k": bytes(rng.randrange(256) for _ in range(4096)),
        "commas-only": b"," * 5000,
        "quotes-only": b'"' * 5001,
        "single-identical-rows": header + b"\n" + (rows[0] + b"\n") * 10,
        "one-class": header + b"\n" + b"\n".join(r for r in rows if r.endswith(b"-1")) + b"\n",
    }
    for i, m in enumerate(mutations(c, rng, 18)):
        cases[f"mut-{i:02}"] = m
    return cases


def big_cases():
    """Large cases for replay time only: name → bytes, per kind."""
    rng = random.Random(41)
    s, c, p = schema_text(), csv_text(), PIPELINE
    mb = 1 << 20
    garbage = rng.randbytes(20 * mb) if hasattr(rng, "randbytes") else os.urandom(20 * mb)
    return {
        "csv": {
            "big-garbage-20m": garbage,
            "big-duplicate-names-20m": b"abcdefghij," * (20 * mb // 11),
            "big-cell-10m": c.replace(c.split(b"\n")[3], b"7" * (10 * mb), 1),
            "big-many-rows": c.split(b"\n", 1)[0] + b"\n" + b"1,2\n" * 500_000,
        },
        "schema": {
            "big-2m": s + b"# padding\n" * (2 * mb // 10),
            "big-deep-flow-100k": s + b"extra: " + b"[" * 100_000 + b"\n",
            "big-deep-dashes-100k": b"- " * 100_000 + b"x\n",
        },
        "pipeline": {
            "big-deep-array-100k": b"x = " + b"[" * 100_000 + b"\n",
            "big-deep-header-100k": b"[" + b"a." * 100_000 + b"a]\n",
        },
        "lock": {
            "big-deep-json-100k": b'{"stages": ' + b"[" * 100_000,
        },
    }


def write(dir_, name, ext, data):
    os.makedirs(dir_, exist_ok=True)
    with open(os.path.join(dir_, f"{name}.{ext}"), "wb") as f:
        f.write(data)


EXT = {"pipeline": "toml", "lock": "lock", "schema": "yaml", "csv": "csv"}


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--big":
        for kind, cases in big_cases().items():
            for name, data in cases.items():
                write(os.path.join(sys.argv[2], kind), name, EXT[kind], data)
        return
    if len(sys.argv) != 1:
        sys.exit(__doc__)
    corpora = {
        "pipeline": pipeline_cases(),
        "lock": lock_cases(),
        "schema": schema_cases(),
        "csv": csv_cases(),
    }
    for kind, cases in corpora.items():
        d = os.path.join(FUZZ, kind)
        shutil.rmtree(d, ignore_errors=True)
        for name, data in cases.items():
            write(d, name, EXT[kind], data)
        print(f"{kind}: {len(cases)} cases", file=sys.stderr)


if __name__ == "__main__":
    main()
