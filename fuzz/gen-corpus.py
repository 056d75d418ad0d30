#!/usr/bin/env python3
"""Writes the seed corpora
fuzz/corpus/{amf,token,jwks,order,state,audit,witness}/.

    python3 fuzz/gen-corpus.py              # all of them
    python3 fuzz/gen-corpus.py state audit  # only these

Needs only python3 and the openssl command (for the RS*/ES* tokens, signed
with the throwaway private keys in fuzz/keys/, whose public halves are
embedded in fuzz_token.c).  The AMF seeds are the bodies ffmpeg 5.1 sent
(fuzz/captures/, see fuzz/README.md) and bodies laid out as OBS's librtmp
sends them, each with the input header of fuzz_amf.c; the state files are
laid out as the module writes them (jansson's JSON_COMPACT); the audit
segments are chained as docs/audit.md defines it (its worked example is
one of them); the JWKS files hold the public halves of fuzz/keys/ and the
keys of RFC 7515 and RFC 8037, and each kind of key t/014-keys.t refuses;
the rest are built here.  Old seeds of the kinds written
are replaced, so the output is the same on every run (but for the ECDSA
signatures, which are randomised).
"""

import base64
import hashlib
import hmac
import json
import os
import shutil
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")

SECRET_NOKID = b"fuzz-hs256-secret-0123456789abcdef"
SECRET_HS = b"fuzz-hs-secret-for-kid-hs-0123456789abcdefghijklmn"

FAR = 4102444800          # 2100-01-01
PAST = 1600000000         # 2020-09-13
SOON = 1900000000         # 2030-03-17: an "until" within 10 years


def write(kind, name, data):
    with open(os.path.join(OUT, kind, name), "wb") as f:
        f.write(data)


# ---------------------------------------------------------------- AMF


def a_num(n):
    return b"\x00" + struct.pack(">d", n)


def a_bool(b):
    return b"\x01" + bytes([1 if b else 0])


def a_str(s):
    s = s.encode() if isinstance(s, str) else s
    return b"\x02" + struct.pack(">H", len(s)) + s


def a_lstr(s):
    s = s.encode() if isinstance(s, str) else s
    return b"\x0c" + struct.pack(">I", len(s)) + s


def a_key(k):
    k = k.encode()
    return struct.pack(">H", len(k)) + k


def a_obj(props, end=True):
    b = b"\x03" + b"".join(a_key(k) + v for k, v in props)
    return b + (b"\x00\x00\x09" if end else b"")


def a_ecma(props):
    return (b"\x08" + struct.pack(">I", len(props))
            + b"".join(a_key(k) + v for k, v in props) + b"\x00\x00\x09")


NULL = b"\x05"


def amf_header(connect, split, lens=(), small=None):
    """the input header of fuzz_amf.c"""
    op = (1 if connect else 0) | (split << 2) | (2 if small is not None else 0)
    h = bytes([op])
    if small is not None:
        h += bytes([small])
    if split == 0:
        h += bytes([len(lens)]) + bytes(lens)
    return h


def amf_seeds(name, body, connect):
    write("amf", name + "-one", amf_header(connect, 3) + body)
    write("amf", name + "-128", amf_header(connect, 1) + body)
    write("amf", name + "-split",
          amf_header(connect, 0, (1, 2, 3, 5, 8, 13, 21, 34)) + body)


def gen_amf(token):
    cap = os.path.join(HERE, "captures")
    for f in sorted(os.listdir(cap)):
        body = open(os.path.join(cap, f), "rb").read()
        amf_seeds(f[:-4], body, "connect" in f)

    # OBS (librtmp): connect with type/flashVer/swfUrl/tcUrl, publish
    # with the stream key and "live"
    url = "rtmp://ingest.example.com/live"
    obs = [("app", a_str("live")), ("type", a_str("nonprivate")),
           ("flashVer", a_str("FMLE/3.0 (compatible; FMSc/1.0)")),
           ("swfUrl", a_str(url)), ("tcUrl", a_str(url))]
    amf_seeds("obs-connect", a_num(1) + a_obj(obs), True)

    obs_t = [("app", a_str("live?token=" + token)),
             ("type", a_str("nonprivate")),
             ("flashVer", a_str("FMLE/3.0 (compatible; FMSc/1.0)")),
             ("swfUrl", a_str(url + "?token=" + token)),
             ("tcUrl", a_str(url + "?token=" + token))]
    amf_seeds("obs-connect-token", a_num(1) + a_obj(obs_t), True)

    amf_seeds("obs-publish",
              a_num(5) + NULL + a_str("room1?token=" + token) + a_str("live"),
              False)

    # variants and broken ones
    pub = a_num(5) + NULL + a_str("room1?x=1&token=" + token + "&y=2")
    amf_seeds("publish-args", pub, False)
    amf_seeds("publish-empty-token",
              a_num(5) + NULL + a_str("room1?token=&token=abc"), False)
    amf_seeds("publish-longstring",
              a_num(5) + NULL + a_lstr("room1?token=" + token), False)
    amf_seeds("publish-object",
              a_num(5) + a_obj([("a", a_num(1)), ("b", a_str("x"))])
              + a_str("r?token=t"), False)
    amf_seeds("publish-truncated", pub[:40], False)
    amf_seeds("publish-bigstring",
              a_num(5) + NULL + b"\x02\xff\xff" + b"room?token=abc", False)
    write("amf", "publish-small-buffer",
          amf_header(False, 0, (9, 1), small=16) + pub)
    write("amf", "connect-small-buffer",
          amf_header(True, 2, small=40) + a_num(1) + a_obj(obs_t))

    deep = b""
    for _ in range(18):
        deep = a_obj([("o", deep)]) if deep else a_obj([("x", NULL)])
    amf_seeds("publish-deep", a_num(5) + deep + a_str("room1"), False)

    every = a_obj([("n", a_num(1.5)), ("b", a_bool(True)), ("s", a_str("s")),
                   ("u", b"\x06"), ("r", b"\x07\x00\x01"),
                   ("d", b"\x0b" + bytes(10)),
                   ("l", a_lstr("long")),
                   ("x", b"\x0f" + struct.pack(">I", 3) + b"<a>"),
                   ("e", a_ecma([("k", a_num(2))])),
                   ("a", b"\x0a" + struct.pack(">I", 2) + a_num(1) + NULL),
                   ("t", b"\x10" + a_key("Cls")[0:2] + b"Cls"
                    + a_key("p") + a_num(3) + b"\x00\x00\x09")])
    amf_seeds("publish-every-type", a_num(5) + every + a_str("room1"), False)

    amf_seeds("connect-ecma",
              a_num(1) + a_ecma([("app", a_str("live?token=abc")),
                                 ("tcUrl", a_str(url + "?token=abc"))]),
              True)
    amf_seeds("connect-nested",
              a_num(1) + a_obj([("x", every), ("app", a_str("live")),
                                ("tcUrl", a_lstr(url + "?a=1&token=q"))]),
              True)
    amf_seeds("connect-app-number",
              a_num(1) + a_obj([("app", a_num(1))]), True)
    amf_seeds("connect-page-url",
              a_num(1) + a_obj([("app", a_str("live")), ("swfUrl", b"\x06"),
                                ("tcUrl", a_str(url)),
                                ("pageUrl", a_str("https://h/p?token=pq"))]),
              True)
    amf_seeds("connect-no-end",
              a_num(1) + a_obj([("app", a_str("live"))], end=False), True)
    amf_seeds("connect-twice",
              a_num(1) + a_obj([("app", a_str("a?token=1")),
                                ("app", a_str("b?token=22")),
                                ("tcUrl", a_str("rtmp://h/a?token=333"))]),
              True)


# ---------------------------------------------------------------- JWT


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def compact(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


def hs_token(header, claims, secret, md=hashlib.sha256):
    h = header if isinstance(header, bytes) else compact(header)
    p = claims if isinstance(claims, bytes) else compact(claims)
    si = (b64(h) + "." + b64(p)).encode()
    return si.decode() + "." + b64(hmac.new(secret, si, md).digest())


def der_to_rs(der, half):
    """an ECDSA DER signature as JWS R || S"""
    assert der[0] == 0x30
    i = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7f)
    out = b""
    for _ in range(2):
        assert der[i] == 0x02
        n = der[i + 1]
        v = der[i + 2:i + 2 + n].lstrip(b"\x00")
        out += v.rjust(half, b"\x00")
        i += 2 + n
    return out


def pk_token(header, claims, key, md, half=0):
    si = (b64(compact(header)) + "." + b64(compact(claims))).encode()
    sig = subprocess.run(
        ["openssl", "dgst", "-" + md, "-sign",
         os.path.join(HERE, "keys", key + ".pem")],
        input=si, stdout=subprocess.PIPE, check=True).stdout
    if half:
        sig = der_to_rs(sig, half)
    return si.decode() + "." + b64(sig)


PUBLISH = {"scope": "publish", "room": "room1", "sub": "host-9f2c",
           "pid": "person-77a1", "op": "op-3", "idv": "kyc-2026-01",
           "tier": "standard", "mcn": "mcn-5", "jti": "j-0001",
           "ai": False, "exp": FAR, "nbf": PAST, "iat": PAST}
PLAY = {"scope": "play", "room": "room1", "jti": "j-0002", "exp": FAR}
B = {"iss": "https://id.example", "aud": "rtmp-ingest"}


def op_token(mode, play=False, conf_b=False, hdr=0):
    return bytes([mode | (4 if play else 0) | (8 if conf_b else 0)
                  | (hdr << 4)])


def gen_token():
    nokid = {"alg": "HS256", "typ": "JWT"}
    t = {}

    # valid, every key of configuration A, then B
    t["hs256-nokid"] = (op_token(0), hs_token(nokid, PUBLISH, SECRET_NOKID))
    t["hs256-play"] = (op_token(0, play=True),
                       hs_token(nokid, PLAY, SECRET_NOKID))
    t["hs384-kid"] = (op_token(0), hs_token({"alg": "HS384", "kid": "hs"},
                                            PUBLISH, SECRET_HS,
                                            hashlib.sha384))
    t["hs512-kid"] = (op_token(0), hs_token({"alg": "HS512", "kid": "hs"},
                                            PUBLISH, SECRET_HS,
                                            hashlib.sha512))
    t["rs256"] = (op_token(0), pk_token({"alg": "RS256", "kid": "rsa"},
                                        PUBLISH, "rsa", "sha256"))
    t["rs512-pinned"] = (op_token(0),
                         pk_token({"alg": "RS512", "kid": "rs512"},
                                  PUBLISH, "rsa", "sha512"))
    t["rs384-pinned-wrong"] = (op_token(0),
                               pk_token({"alg": "RS384", "kid": "rs512"},
                                        PUBLISH, "rsa", "sha384"))
    t["es256"] = (op_token(0), pk_token({"alg": "ES256", "kid": "ec256"},
                                        PUBLISH, "ec256", "sha256", 32))
    t["es384"] = (op_token(0, play=True),
                  pk_token({"alg": "ES384", "kid": "ec384"},
                           PLAY, "ec384", "sha384", 48))
    t["es512"] = (op_token(0), pk_token({"alg": "ES512", "kid": "ec521"},
                                        PUBLISH, "ec521", "sha512", 66))
    t["b-hs256"] = (op_token(0, conf_b=True),
                    hs_token({"alg": "HS256", "kid": "hs"},
                             dict(PUBLISH, **B), SECRET_HS))
    t["b-rs256-aud-array"] = (op_token(0, conf_b=True),
                              pk_token({"alg": "RS256", "kid": "rsa"},
                                       dict(PUBLISH, iss=B["iss"],
                                            aud=["x", "rtmp-ingest"]),
                                       "rsa", "sha256"))
    t["b-es256-play"] = (op_token(0, play=True, conf_b=True),
                         pk_token({"alg": "ES256", "kid": "ec256"},
                                  dict(PLAY, **B), "ec256", "sha256", 32))

    # refused
    good = hs_token(nokid, PUBLISH, SECRET_NOKID)
    h, p, s = good.split(".")
    t["alg-none"] = (op_token(0), b64(compact({"alg": "none"})) + "." + p
                     + ".")
    t["alg-confusion"] = (op_token(0),
                          hs_token({"alg": "HS256", "kid": "rsa"}, PUBLISH,
                                   open(os.path.join(HERE, "keys",
                                                     "rsa.pub"), "rb")
                                   .read()))
    t["crit"] = (op_token(0), hs_token(dict(nokid, crit=["exp"]), PUBLISH,
                                       SECRET_NOKID))
    t["kid-long"] = (op_token(0), hs_token({"alg": "HS256", "kid": "k" * 65},
                                           PUBLISH, SECRET_HS))
    t["kid-unknown"] = (op_token(0), hs_token({"alg": "HS256", "kid": "zz"},
                                              PUBLISH, SECRET_HS))
    t["nokid-conf-b"] = (op_token(0, conf_b=True), good)
    t["two-dots-only"] = (op_token(0), h + "." + p)
    t["four-parts"] = (op_token(0), good + ".x")
    t["padding"] = (op_token(0), h + "==." + p + "." + s)
    t["bad-sig"] = (op_token(0), h + "." + p + "." + s[:-2] + "AA")
    t["empty-sig"] = (op_token(0), h + "." + p + ".")
    t["header-array"] = (op_token(0), b64(b"[1]") + "." + p + "." + s)
    t["too-long"] = (op_token(0), good + "A" * 4100)
    t["expired"] = (op_token(0), hs_token(nokid, dict(PUBLISH, exp=PAST),
                                          SECRET_NOKID))
    t["b-wrong-iss"] = (op_token(0, conf_b=True),
                        hs_token({"alg": "HS256", "kid": "hs"},
                                 dict(PUBLISH, iss="x", aud="rtmp-ingest"),
                                 SECRET_HS))
    for name, (op, tok) in t.items():
        write("token", "raw-" + name, op + tok.encode())

    # mode 1: claims behind a valid HMAC signature
    claims = {
        "publish": (0, dict(PUBLISH)),
        "play": (4, dict(PLAY)),
        "b-publish": (8, dict(PUBLISH, **B)),
        "b-aud-array": (8, dict(PUBLISH, iss=B["iss"],
                                aud=[1, None, "rtmp-ingest"])),
        "exp-real": (0, dict(PUBLISH, exp=4102444800.5)),
        "exp-huge": (0, dict(PUBLISH, exp=1e300)),
        "exp-negative": (0, dict(PUBLISH, exp=-1)),
        "exp-string": (0, dict(PUBLISH, exp="4102444800")),
        "nbf-future": (0, dict(PUBLISH, nbf=FAR - 10)),
        "iat-future": (4, dict(PLAY, iat=FAR - 10)),
        "no-room": (4, {"scope": "play", "exp": FAR}),
        "no-idv": (0, {k: v for k, v in PUBLISH.items() if k != "idv"}),
        "claim-257": (0, dict(PUBLISH, sub="s" * 257)),
        "claim-control": (0, dict(PUBLISH, room="room\u0001")),
        "claim-nul": (0, dict(PUBLISH, room="room\u0000x")),
        "claim-utf8": (0, dict(PUBLISH, room="r\u00e9\u4e2d\U0001f600")),
        "ai-string": (0, dict(PUBLISH, ai="yes")),
        "scope-play-for-publish": (0, dict(PUBLISH, scope="play")),
    }
    for i, (name, (op, c)) in enumerate(claims.items()):
        write("token", "claims-" + name,
              bytes([op | 1 | ((i % 4) << 4)]) + compact(c))
    write("token", "claims-duplicate",
          bytes([1]) + b'{"scope":"publish","scope":"play","exp":4102444800}')
    write("token", "claims-not-object", bytes([1]) + b'["scope"]')
    write("token", "claims-not-json", bytes([1]) + b'{"exp":')

    # mode 2: header and claims, HMAC-signed
    hdrs = [
        (0x02, {"alg": "HS256"}),
        (0x42, {"alg": "HS256", "kid": "hs"}),
        (0x52, {"alg": "HS384", "kid": "hs"}),
        (0x62, {"alg": "HS512", "kid": "hs"}),
        (0x02, {"alg": "RS256", "kid": "rsa"}),
        (0x02, {"alg": "ES512", "kid": "ec521"}),
        (0x02, {"alg": "HS256", "kid": ""}),
        (0x02, {"alg": "HS256", "kid": 7}),
        (0x02, {"alg": 1}),
        (0x4a, {"alg": "HS256", "kid": "hs", "typ": "JWT"}),
    ]
    for i, (op, hd) in enumerate(hdrs):
        c = dict(PUBLISH, **B) if op & 8 else PUBLISH
        write("token", "signed-%02d" % i, bytes([op]) + compact(hd) + b"\0"
              + compact(c))

    # mode 3: the argument lookup
    for i, a in enumerate([b"token=abc", b"a=1&token=x.y.z&b=2", b"token",
                           b"tokens=1&token=2", b"&&token=&", b"=1&token=2",
                           b"name\0a=1&name=v&name=w", b"\0=x&y",
                           b"token=a&token=b"]):
        write("token", "arg-%02d" % i, b"\x03" + a)


# ---------------------------------------------------------------- witness


def witness_entry(**change):
    """a checkpoint on the fleet's stream, its fields NUL-separated"""
    f = [("op", "checkpoint"), ("origin", "ingest-bj-01"), ("seq", "41"),
         ("hash", "9f" * 32), ("ts", "2026-03-01T08:00:00.000Z"),
         ("key", "0a" * 16), ("sig", "5c" * 64)]
    f = [(k, change.get(k, v)) for k, v in f if change.get(k, v) is not None]
    return b"\0".join(x.encode() for kv in f for x in kv)


def gen_witness():
    write("witness", "good", witness_entry())
    write("witness", "utf8-origin", witness_entry(origin="边缘-01"))
    write("witness", "big-seq", witness_entry(seq=str(2 ** 63 - 1)))
    write("witness", "unknown-field", witness_entry() + b"\0entry\0" + b"1-0")
    write("witness", "no-sig", witness_entry(sig=None))
    write("witness", "upper-hash", witness_entry(hash="9F" * 32))
    write("witness", "seq-zero", witness_entry(seq="0"))
    write("witness", "seq-over", witness_entry(seq=str(2 ** 63)))
    write("witness", "bad-ts", witness_entry(ts="2026-13-01T08:00:00.000Z"))
    write("witness", "twice", witness_entry() + b"\0seq\0" + b"42")
    write("witness", "op-create", witness_entry(op="create"))
    write("witness", "ctl-origin", witness_entry(origin="a\x01b"))


# ---------------------------------------------------------------- orders


def gen_order():
    o = {
        "api-ban": {"target": "person:9f2c", "action": "ban",
                    "reason": "fraud, case 17", "ref": "case-17"},
        "api-suspend": {"target": "host:h-1", "action": "suspend",
                        "duration": 3600, "reason": "strikes"},
        "api-restrict": {"target": "room:live/room1", "action": "restrict",
                         "tier": "minor", "until": SOON,
                         "reason": "age"},
        "api-warn": {"target": "op:op-3", "action": "warn", "duration": 60,
                     "reason": "late", "ref": None, "until": None},
        "api-token": {"target": "token:j-0001", "action": "suspend",
                      "duration": 86400, "reason": "leaked"},
        "api-mcn": {"target": "mcn:mcn-5", "action": "ban",
                    "reason": "\u00e9\u4e2d", "tier": None},
        "state-create": {"op": "create", "order": {
            "id": 12, "target": "person:9f2c", "action": "suspend",
            "created": PAST, "until": SOON + 5, "reason": "r", "ref": "",
        }},
        "state-create-ban": {"op": "create", "order": {
            "id": 13, "target": "host:h-1", "action": "ban",
            "created": PAST, "until": None, "reason": "r", "ref": "x",
        }},
        "state-create-past": {"op": "create", "order": {
            "id": 14, "target": "room:a/b", "action": "restrict",
            "created": PAST, "until": PAST + 60, "reason": "r", "ref": "",
            "tier": "t",
        }},
        "api-reverify": {"target": "mcn:mcn-5", "action": "reverify",
                         "within": 120, "reason": "face check"},
        "api-reverify-default": {"target": "person:9f2c",
                                 "action": "reverify", "reason": "idv",
                                 "duration": 600},
        "state-create-reverify": {"op": "create", "order": {
            "id": 15, "target": "host:h-2", "action": "reverify",
            "created": PAST, "until": SOON + 5, "reason": "r", "ref": "",
            "within": 2,
        }},
        "state-lift": {"op": "lift", "id": 3},
        "state-next": {"op": "next", "id": 99},
        # refused
        "unknown-field": {"target": "person:x", "action": "ban",
                          "reason": "r", "color": "red"},
        "both-times": {"target": "person:x", "action": "warn",
                       "reason": "r", "until": FAR, "duration": 10},
        "ban-until": {"target": "person:x", "action": "ban", "reason": "r",
                      "until": FAR},
        "no-colon": {"target": "personx", "action": "ban", "reason": "r"},
        "empty-id": {"target": "host:", "action": "ban", "reason": "r"},
        "long-id": {"target": "person:" + "i" * 257, "action": "ban",
                    "reason": "r"},
        "bad-kind": {"target": "planet:x", "action": "ban", "reason": "r"},
        "reason-control": {"target": "person:x", "action": "ban",
                           "reason": "a\u0007b"},
        "reason-long": {"target": "person:x", "action": "ban",
                        "reason": "r" * 513},
        "reason-number": {"target": "person:x", "action": "ban",
                          "reason": 5},
        "tier-on-ban": {"target": "person:x", "action": "ban",
                        "reason": "r", "tier": "t"},
        "restrict-no-tier": {"target": "person:x", "action": "restrict",
                             "reason": "r", "duration": 5},
        "duration-zero": {"target": "person:x", "action": "warn",
                          "reason": "r", "duration": 0},
        "duration-huge": {"target": "person:x", "action": "warn",
                          "reason": "r", "duration": 2 ** 62},
        "duration-real": {"target": "person:x", "action": "warn",
                          "reason": "r", "duration": 1.5},
        "until-past": {"target": "person:x", "action": "warn",
                       "reason": "r", "until": PAST},
        "until-negative": {"target": "person:x", "action": "warn",
                           "reason": "r", "until": -(2 ** 63)},
        "within-on-warn": {"target": "person:x", "action": "warn",
                           "reason": "r", "duration": 5, "within": 5},
        "within-zero": {"target": "person:x", "action": "reverify",
                        "reason": "r", "within": 0},
        "within-huge": {"target": "person:x", "action": "reverify",
                        "reason": "r", "within": 86401},
        "within-string": {"target": "person:x", "action": "reverify",
                          "reason": "r", "within": "5"},
        "state-id-negative": {"op": "create", "order": {
            "id": -1, "target": "person:x", "action": "ban",
            "reason": "r"}},
        "state-order-array": {"op": "create", "order": []},
        "state-no-order": {"op": "create"},
    }
    for name, j in o.items():
        write("order", name, compact(j))
    write("order", "duplicate",
          b'{"target":"person:x","target":"host:y","action":"ban",'
          b'"reason":"r"}')
    write("order", "nul-key",
          b'{"target\\u0000x":"person:x","target":"host:y",'
          b'"action":"ban","reason":"r"}')
    write("order", "not-object", b'["target","person:x"]')
    write("order", "truncated", b'{"target":"person:x","act')
    write("order", "scalar", b'"ban"')


# ---------------------------------------------------------------- state

# fuzz_state.c's fixed "now" (2026-03-01); an order in force ends after it
# and at most 10 years (of 366 days) later
STATE_NOW = 1772323200
STATE_SOON = STATE_NOW + 86400 * 30
STATE_PAST = STATE_NOW - 86400


def utf8(obj):
    """a line as jansson's JSON_COMPACT writes it: UTF-8, no spaces"""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def journal(*records):
    return b"".join(r if isinstance(r, bytes) else utf8(r) + b"\n"
                    for r in records)


def st_order(oid, target, action, until=None, reason="r", ref="",
             tier=None, uid=None, created=STATE_NOW - 3600):
    o = {"id": oid, "target": target, "action": action, "created": created,
         "until": until, "reason": reason, "ref": ref}
    if uid is not False:
        o["uid"] = uid or "node-a:%d" % oid
    if tier is not None:
        o["tier"] = tier
    return o


def create(o):
    return {"op": "create", "order": o}


def gen_state():
    ban = st_order(1, "person:9f2c", "ban", reason="fraud, case 17",
                   ref="case-17")
    susp = st_order(2, "host:h-1", "suspend", until=STATE_SOON,
                    reason="strikes")
    restr = st_order(3, "room:live/room1", "restrict", until=STATE_SOON,
                     tier="minor", reason="age")
    warn = st_order(4, "op:op-3", "warn", until=STATE_SOON + 60,
                    reason="late")
    tok = st_order(5, "token:j-0001", "suspend", until=STATE_SOON,
                   reason="leaked")
    mcn = st_order(6, "mcn:mcn-5", "ban", reason="\u00e9\u4e2d \u2014 MCN")
    orders = [ban, susp, restr, warn, tok, mcn]

    seeds = {
        # a start with no orders yet
        "fresh": journal({"op": "next", "id": 1}),
        "empty": b"",
        # what a compaction writes: next, then the orders in force
        "compacted": journal({"op": "next", "id": 7},
                             *[create(o) for o in orders]),
        # appended by the workers after a compaction
        "journal": journal({"op": "next", "id": 3}, create(ban), create(susp),
                           create(st_order(3, "host:h-2", "warn",
                                           until=STATE_SOON, reason="w")),
                           {"op": "lift", "id": 2}, create(restr),
                           {"op": "lift", "id": 3}, create(warn),
                           {"op": "lift", "id": 99}),
        # a node of the fleet: the stream position and the outbox
        "fleet": journal({"op": "next", "id": 3}, create(ban), create(susp),
                         {"op": "stream", "id": "1772320000000-0"},
                         {"op": "outbox", "what": "create",
                          "uid": "node-a:1",
                          "order": {k: v for k, v in ban.items()
                                    if k != "id"}},
                         {"op": "outbox", "what": "create",
                          "uid": "node-a:2",
                          "order": {k: v for k, v in susp.items()
                                    if k != "id"}},
                         {"op": "published", "what": "create",
                          "uid": "node-a:1"},
                         {"op": "outbox", "what": "lift", "uid": "node-a:2",
                          "order": {}},
                         {"op": "stream", "id": "1772320000555-3"},
                         {"op": "outbox", "what": "lift", "uid": "node-b:7"},
                         {"op": "published", "what": "lift",
                          "uid": "node-b:7"}),
        # orders from the fleet keep their origin's uid
        "fleet-uids": journal({"op": "next", "id": 1},
                              create(st_order(1, "host:x", "ban",
                                              uid="node-b:41")),
                              create(st_order(2, "host:x", "suspend",
                                              until=STATE_SOON,
                                              uid="node-c:41")),
                              {"op": "lift", "id": 1}),
        # a state file written before orders had a uid
        "no-uid": journal({"op": "next", "id": 2},
                          create(st_order(1, "host:old", "ban", uid=False)),
                          create(st_order(2, "room:a/b", "suspend",
                                          until=STATE_SOON, uid=False))),
        # ended orders are dropped; their ids are not given out again
        "expired": journal({"op": "next", "id": 1},
                           create(st_order(8, "host:e", "suspend",
                                           until=STATE_PAST)),
                           create(st_order(9, "host:e", "warn",
                                           until=STATE_NOW)),
                           create(st_order(10, "host:f", "warn",
                                           until=STATE_NOW + 1))),
        # t/022-persistence.t, test 4: a record cut by a crash
        "torn": journal({"op": "next", "id": 1}, create(ban), create(susp),
                        create(restr))
                + b'{"op":"create","order":{"id":4,"target":"host:d","act',
        # t/022-persistence.t, test 5: lines that are skipped
        "corrupt": journal({"op": "next", "id": 1}, create(ban),
                           b"this is not json\n",
                           b'{"op":"create","order":{"id":2,"target":'
                           b'"host:b","action":"explode","created":1,'
                           b'"until":null,"reason":"bad action",'
                           b'"ref":""}}\n',
                           b'{"op":"create","order":{"id":3,"target":'
                           b'"host:c","action":"ban","until":null,'
                           b'"reason":"r","ref":"","colour":"red"}}\n',
                           {"op": "lift", "id": "x"},
                           {"op": "frobnicate", "id": 4},
                           create(st_order(5, "host:e", "suspend",
                                           until=STATE_SOON,
                                           reason="five", ref="R5"))),
        # the same id twice, the next id going back, empty lines
        "duplicates": journal({"op": "next", "id": 40}, create(ban),
                              create(dict(ban, reason="again")),
                              b"\n", {"op": "next", "id": 2}, b"\n",
                              create(dict(susp, id=39))),
        # the largest ids and strings the parser takes
        "limits": journal({"op": "next", "id": 2 ** 62},
                          create(st_order(2 ** 62 + 1, "person:" + "p" * 256,
                                          "restrict", until=STATE_NOW
                                          + 10 * 366 * 86400,
                                          reason="r" * 512, ref="f" * 128,
                                          tier="t" * 256, uid="u" * 128)),
                          {"op": "stream", "id": "9" * 47}),
        "crlf": journal({"op": "next", "id": 2}).replace(b"\n", b"\r\n")
                + journal(create(ban)).replace(b"\n", b"\r\n"),
    }

    # more orders than the smallest zone (64 pages) holds: the loader
    # says "the zone is too small" and keeps what fits.  The lines are
    # as short as an order can be, so that the file is small (< 64 KB)
    many = [{"op": "next", "id": 1}]
    for i in range(1, 751):
        many.append(create({"id": i, "target": "host:%d" % i,
                            "action": "ban", "reason": "r"}))
    seeds["zone-full"] = journal(*many)

    for name, data in seeds.items():
        write("state", name, data)


# ---------------------------------------------------------------- audit

AUDIT_ZERO = "0" * 64


def audit_line(rec, prev, ascii=False):
    """a record as the module writes it: the fields, prev, then hash"""
    body = utf8(dict(rec, prev=prev)) if not ascii else \
        json.dumps(dict(rec, prev=prev), separators=(",", ":")).encode()
    h = hashlib.sha256(body).hexdigest()
    return body[:-1] + b',"hash":"' + h.encode() + b'"}', h


def audit_chain(recs, seq=1, prev=AUDIT_ZERO, node="ingest-bj-01"):
    """(line, hash) of each record, chained from seq and prev"""
    out = []
    for ts, event, fields in recs:
        head = {"seq": seq, "ts": ts, "event": event, "node": node}
        line, prev = audit_line(dict(head, **fields), prev)
        out.append(line)
        seq += 1
    return out, prev


def lines(ls):
    return b"".join(x + b"\n" for x in ls)


def gen_audit():
    # docs/audit.md's worked example, as printed there
    doc = open(os.path.join(HERE, "..", "docs", "audit.md"), "rb").read()
    example = [x for x in doc.split(b"\n")
               if x.startswith(b'{"seq":') and b'"hash":"' in x]
    write("audit", "docs-example", lines(example))

    sess = {"session": 17, "app": "live", "room": "r10086",
            "host": "h_2001", "person": "c4ca4238a0b923820dcc509a6f75849b",
            "op": "op_100042", "mcn": "", "tier": "verified", "ai": False,
            "idv": "face+id2", "jti": "a87ff679a2f3e71d", "kid": "2026a",
            "token": "sha256:e4da3b7fbbce", "addr": "203.0.113.45"}
    viewer = {"session": 18, "app": "live", "room": "r10086", "host": "",
              "person": "", "op": "", "mcn": "", "tier": "verified",
              "ai": False, "idv": "", "jti": "", "kid": "", "token": "",
              "addr": "198.51.100.23"}
    reject = dict(viewer, session=None, reason="viewer_limit",
                  detail="r10086 has 100 viewers, the tier allows 100")
    order = {"order": "7", "target": "host:h_2001", "action": "suspend",
             "until": 1770000000, "reason": "strikes", "ref": "case-7",
             "tier": None}
    day = [
        ("2026-02-01T00:00:00.114Z", "audit.start", {"pid": 4321}),
        ("2026-02-01T10:00:00.250Z", "publish.accept", sess),
        ("2026-02-01T10:00:30.000Z", "play.accept", viewer),
        ("2026-02-01T10:05:00.000Z", "play.reject", reject),
        ("2026-02-01T10:06:00.000Z", "publish.reject",
         dict(sess, session=None, reason="banned",
              detail="person c4ca4238 is banned")),
        ("2026-02-01T10:10:00.000Z", "order.create", order),
        ("2026-02-01T10:10:00.001Z", "warn.sent",
         {"session": 17, "room": "r10086", "order": "8",
          "text": "\u8bf7\u6ce8\u610f \"quotes\" and \\ and \t"}),
        ("2026-02-01T10:20:00.000Z", "session.end",
         {"session": 17, "kind": "publish", "app": "live",
          "room": "r10086", "host": "h_2001",
          "person": "c4ca4238a0b923820dcc509a6f75849b",
          "op": "op_100042", "mcn": "", "tier": "verified", "ai": False,
          "addr": "203.0.113.45", "duration_ms": 1199750,
          "bytes_in": 553125000, "bytes_out": 0, "why": "suspended"}),
        ("2026-02-01T10:20:01.000Z", "record.done",
         {"session": 17, "app": "live", "room": "r10086", "recorder": "",
          "path": "/var/rec/r10086-1770000000.flv", "size": 553125000,
          "sha256": "ab" * 32}),
        ("2026-02-01T11:00:00.000Z", "order.lift", order),
        ("2026-02-01T12:00:00.000Z", "order.expire",
         dict(order, order="9", action="ban", until=None)),
        ("2026-02-01T13:00:00.000Z", "audit.gap", {"lost": 3}),
        ("2026-02-01T13:00:00.001Z", "audit.resume", {}),
        ("2026-02-01T14:00:00.000Z", "audit.start",
         {"pid": 4400, "recovered_bytes": 117}),
    ]
    good, last = audit_chain(day)
    write("audit", "day", lines(good))

    # hourly segments ("\f\n" starts the next one), one of them empty
    write("audit", "segments",
          lines(good[:3]) + b"\f\n" + lines(good[3:8]) + b"\f\n\f\n"
          + lines(good[8:]))

    # after pruning: the chain starts at an anchor
    anchor, _ = audit_chain(day[:4], seq=26, prev="7c14" + "e" * 60)
    write("audit", "anchor", lines(anchor))

    # the kinds of damage verify tells apart
    edited = list(good)
    edited[3] = edited[3].replace(b"r10086", b"r10087", 1)
    write("audit", "edited", lines(edited))
    write("audit", "deleted", lines(good[:4] + good[5:]))
    write("audit", "reordered",
          lines(good[:4] + [good[5], good[4]] + good[6:]))
    write("audit", "duplicated", lines(good[:5] + good[4:]))
    write("audit", "deleted-segment",
          lines(good[:4]) + b"\f\n" + lines(good[8:]))
    other, _ = audit_chain(day[4:6], seq=5, prev="1f0c" + "0" * 60)
    write("audit", "spliced", lines(good[:4] + other + good[6:]))
    write("audit", "genesis", lines(audit_chain(day[:2], prev="1" * 64)[0]))
    write("audit", "torn", lines(good[:6]) + good[6][:90])
    write("audit", "unterminated", lines(good[:6]) + good[6])

    # records verify reads with jansson: escapes, order, types
    esc, h = audit_chain([("2026-02-01T00:00:00.000Z", "audit.start",
                           {"pid": 1})])
    esc.append(audit_line({"seq": 2, "ts": "2026-02-01T00:00:01.000Z",
                           "event": "warn.sent", "node": "ingest-bj-01",
                           "text": "\u00e9\u0001\u001b[31m\u202e"}, h,
                          ascii=True)[0])
    write("audit", "escapes", lines(esc))
    bad = [
        b'{"seq":1,"ts":"2026-02-01T00:00:00.000Z","node":"n",'
        b'"event":"audit.start","prev":"' + AUDIT_ZERO.encode() + b'"}',
        b'{"seq":1, "ts":"2026-02-01T00:00:00.000Z"}',
        b'{"seq":1.5,"ts":"2026-02-01T00:00:00.000Z","event":"x",'
        b'"node":"n","nested":{"a":[1]},"prev":"' + AUDIT_ZERO.encode()
        + b'","hash":"' + AUDIT_ZERO.encode() + b'"}',
        b"[1,2,3]",
        b"",
        b'{"seq":1,"ts":"2026-02-30T25:61:61.000Z"',
    ]
    for i, b in enumerate(bad):
        write("audit", "bad-%d" % (i + 1), b + b"\n")

    # another node's chain after this one's
    n2, _ = audit_chain(day[2:4], seq=len(good) + 1, prev=last,
                        node="ingest-sh-02")
    write("audit", "node-change", lines(good + n2))


# ---------------------------------------------------------------- JWKS


def der_pub(name):
    return subprocess.run(
        ["openssl", "pkey", "-pubin", "-in",
         os.path.join(HERE, "keys", name + ".pub"), "-outform", "DER"],
        stdout=subprocess.PIPE, check=True).stdout


def jwk_rsa(kid, **more):
    mod = subprocess.run(
        ["openssl", "rsa", "-pubin", "-in", os.path.join(HERE, "keys",
                                                         "rsa.pub"),
         "-noout", "-modulus"],
        stdout=subprocess.PIPE, check=True).stdout.decode()
    n = bytes.fromhex(mod.strip().split("=", 1)[1])
    k = {"kty": "RSA", "kid": kid, "n": b64(n), "e": "AQAB"}
    k.update(more)
    return k


def jwk_ec(name, kid, **more):
    crv, half = {"ec256": ("P-256", 32), "ec384": ("P-384", 48),
                 "ec521": ("P-521", 66)}[name]
    pt = der_pub(name)[-(1 + 2 * half):]
    assert pt[0] == 4
    k = {"kty": "EC", "kid": kid, "crv": crv, "x": b64(pt[1:1 + half]),
         "y": b64(pt[1 + half:])}
    k.update(more)
    return k


# RFC 8037 A.2, RFC 7515 A.1
ED_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
OCT_K = ("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4h"
         "cgUuTwjAzZr1Z9CAow")


def gen_jwks():
    ed = {"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": ED_X}
    oct_ = {"kty": "oct", "kid": "hs", "k": OCT_K}
    rsa = jwk_rsa("rsa")
    ec = [jwk_ec(n, n) for n in ("ec256", "ec384", "ec521")]

    def js(keys):
        return json.dumps({"keys": keys}, separators=(",", ":")).encode()

    seeds = {
        "all": js([rsa] + ec + [ed, oct_]),
        "all-pinned": js([dict(rsa, alg="RS512", use="sig"),
                          dict(ec[0], alg="ES256"), dict(ed, alg="EdDSA"),
                          dict(oct_, alg="HS384")]),
        "one-ed": js([ed]),
        "one-oct": js([oct_]),
        "one-rsa": js([rsa]),
        "one-ec521": js([ec[2]]),
        "pretty": json.dumps({"keys": [ed, ec[0]]}, indent=2).encode(),
        "extra-members": js([dict(rsa, x5t="abc", key_ops=["verify"],
                                  ext=True)]),
        "no-kid": js([{k: v for k, v in ed.items() if k != "kid"}]),
        "kid-pre": js([dict(ed, kid="pre")]),
        "dup-kid": js([ed, dict(ec[0], kid="ed")]),
        "kid-65": js([dict(ed, kid="k" * 65)]),
        "kid-control": js([dict(ed, kid="a\u0001b")]),
        "kid-number": js([dict(ed, kid=7)]),
        "short-n": js([dict(rsa, n=b64(b"\xc1" + b"\x00" * 127))]),
        "n-zeros": js([dict(rsa, n=b64(b"\x00" * 300))]),
        "e-even": js([dict(rsa, e=b64(b"\x01\x00\x00"))]),
        "kty-unknown": js([dict(ed, kty="RSA-PSS")]),
        "crv-k1": js([dict(ec[0], crv="secp256k1")]),
        "crv-ed448": js([dict(ed, crv="Ed448", x=b64(b"x" * 57))]),
        "x-short": js([dict(ed, x=b64(b"x" * 31))]),
        "xy-size": js([dict(ec[1], crv="P-256")]),
        "off-curve": js([dict(ec[0], y=ec[0]["y"][:-2] + "AA")]),
        "b64-padding": js([dict(ed, x=ED_X + "=")]),
        "b64-alphabet": js([dict(rsa, n="+" + rsa["n"][1:])]),
        "b64-noncanonical": js([dict(ed, x=ED_X[:-1] + "p")]),
        "private-d": js([dict(ec[0], d=b64(b"d" * 32))]),
        "oct-31": js([dict(oct_, k=b64(b"k" * 31))]),
        "alg-unknown": js([dict(rsa, alg="PS256")]),
        "alg-kty": js([dict(ec[0], alg="RS256")]),
        "alg-curve": js([dict(ec[0], alg="ES384")]),
        "use-enc": js([dict(rsa, use="enc")]),
        "not-object": js([ed, "AQAB"]),
        "empty": js([]),
        "single-jwk": json.dumps(ed).encode(),
        "no-keys": b'{"kys":[]}',
        "dup-names": b'{"keys":[],"keys":[]}',
        "not-json": b'{"keys":[{"kty":"RSA",}]}',
        "deep": b'{"keys":[' + b"[" * 100 + b"]" * 100 + b"]}",
    }

    for name, data in seeds.items():
        write("jwks", name, data)


def gen_amf_seeds():
    token = hs_token({"alg": "HS256", "typ": "JWT"}, PUBLISH, SECRET_NOKID)
    gen_amf(token)


# each kind of seed and what writes it, in the order they are written;
# all but "witness" are written when no kind is named
GENERATORS = (
    ("amf", gen_amf_seeds),
    ("token", gen_token),
    ("jwks", gen_jwks),
    ("order", gen_order),
    ("state", gen_state),
    ("audit", gen_audit),
    ("witness", gen_witness),
)


def main():
    known = [kind for kind, _ in GENERATORS]
    kinds = sys.argv[1:] or [kind for kind in known if kind != "witness"]

    for kind in kinds:
        if kind not in known:
            print("unknown kind", kind, file=sys.stderr)
            return 2

    for kind in kinds:
        d = os.path.join(OUT, kind)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)

    for kind, generate in GENERATORS:
        if kind in kinds:
            generate()

    for kind in kinds:
        print(kind, len(os.listdir(os.path.join(OUT, kind))), "seeds")


if __name__ == "__main__":
    sys.exit(main())
