"""A scripted foreign XMPP client for Rounds' interop tests.

It is Debian's slixmpp, a client Rounds did not write, speaking TCP c2s with STARTTLS
to the same server. Commands arrive as JSON lines on stdin; everything it sees leaves
as JSON lines on stdout. It answers receipt requests (XEP-0184) by itself, and
displayed markers (XEP-0333) when asked to.
"""
import asyncio
import hashlib
import io
import json
import logging
import resource
import ssl
import sys
import time
import urllib.parse
import urllib.request

import slixmpp
from slixmpp.xmlstream import ET

# XEP-0454 file encryption from slixmpp itself (python3-cryptography). Its
# XEP-0363 uploader needs aiohttp, which Debian's python3-slixmpp does not
# pull in, so the slot request is a plain IQ and the HTTP is urllib.
from slixmpp.plugins.xep_0454 import XEP_0454

NS_UPLOAD = "urn:xmpp:http:upload:0"


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class Peer(slixmpp.ClientXMPP):
    def __init__(self, jid, password, cafile, auto_displayed):
        super().__init__(jid, password)
        self.auto_displayed = auto_displayed
        self.ssl_context = ssl.create_default_context(cafile=cafile)
        for p in ("xep_0030", "xep_0059", "xep_0184", "xep_0199", "xep_0280",
                  "xep_0297", "xep_0313", "xep_0333", "xep_0359", "xep_0249"):
            self.register_plugin(p)
        self.add_event_handler("groupchat_direct_invite", self.on_invite)
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("receipt_received", self.on_receipt)
        self.add_event_handler("marker_displayed", self.on_displayed)
        self.add_event_handler("failed_auth", lambda _: emit({"event": "error", "error": "auth failed"}))

    async def on_start(self, _):
        self.send_presence()
        await self.get_roster()
        emit({"event": "ready", "jid": str(self.boundjid)})
        asyncio.ensure_future(self.read_commands())

    def on_message(self, msg):
        if msg["type"] not in ("chat", "normal", "groupchat") or not msg["body"]:
            return
        emit({
            "event": "message",
            "from": str(msg["from"]),
            "type": msg["type"],
            "id": msg["id"],
            "body": msg["body"],
            "origin_id": msg["origin_id"]["id"],
            "stanza_id": msg["stanza_id"]["id"],
            "stanza_id_by": str(msg["stanza_id"]["by"]),
            "receipt_requested": msg["request_receipt"],
            "markable": bool(msg.xml.find("{urn:xmpp:chat-markers:0}markable") is not None),
            "fallbacks": fallbacks(msg.xml),
        })
        if self.auto_displayed and msg.xml.find("{urn:xmpp:chat-markers:0}markable") is not None:
            self["xep_0333"].send_marker(msg["from"], msg["id"], "displayed")

    def on_receipt(self, msg):
        emit({"event": "receipt", "from": str(msg["from"]), "id": msg["receipt"]})

    def on_displayed(self, msg):
        emit({"event": "displayed", "from": str(msg["from"]), "id": msg["displayed"]["id"]})

    def on_invite(self, msg):
        # An XEP-0249 invitation, as slixmpp's plugin reads it.
        emit({"event": "invite", "from": str(msg["from"]), "jid": str(msg["groupchat_invite"]["jid"]),
              "body": msg["groupchat_invite"]["reason"]})

    async def read_commands(self):
        loop = asyncio.get_event_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                self.disconnect()
                return
            try:
                await self.run(json.loads(line))
            except Exception as e:  # report, never die silently
                emit({"event": "error", "error": repr(e)})

    async def run(self, c):
        cmd = c["cmd"]
        if cmd == "send":
            m = self.make_message(mto=c["to"], mbody=c["body"], mtype=c.get("type", "chat"))
            m["id"] = c["id"]
            m["origin_id"]["id"] = c["id"]
            m["request_receipt"] = True
            m.xml.append(slixmpp.xmlstream.ET.Element("{urn:xmpp:chat-markers:0}markable"))
            m.send()
            emit({"event": "sent", "id": c["id"]})
        elif cmd == "reply":
            # An XEP-0461 reply as Conversations sends one: the quote of the
            # answered message first, marked as the reply's fallback.
            quote = c["quote"]
            m = self.make_message(mto=c["to"], mbody=quote + c["body"], mtype="chat")
            m["id"] = c["id"]
            m["origin_id"]["id"] = c["id"]
            ET.SubElement(m.xml, "{urn:xmpp:reply:0}reply", {"to": c["reply_to"], "id": c["reply_id"]})
            fb = ET.SubElement(m.xml, "{urn:xmpp:fallback:0}fallback", {"for": "urn:xmpp:reply:0"})
            ET.SubElement(fb, "{urn:xmpp:fallback:0}body", {"start": "0", "end": str(len(quote))})
            m.send()
            emit({"event": "sent", "id": c["id"]})
        elif cmd == "react":
            # An XEP-0444 reaction set to message react_id, as Conversations
            # sends one: no body, a store hint.
            m = self.make_message(mto=c["to"], mtype=c.get("type", "chat"))
            m["id"] = c["id"]
            r = ET.SubElement(m.xml, "{urn:xmpp:reactions:0}reactions", {"id": c["react_id"]})
            for e in c["reactions"]:
                ET.SubElement(r, "{urn:xmpp:reactions:0}reaction").text = e
            ET.SubElement(m.xml, "{urn:xmpp:hints}store")
            m.send()
            emit({"event": "sent", "id": c["id"]})
        elif cmd == "invite":
            self["xep_0249"].send_invitation(c["to"], c["room"], reason=c.get("reason") or None)
            emit({"event": "sent", "id": c["room"]})
        elif cmd == "receipt":
            ack = self.Message()
            ack["to"] = c["to"]
            ack["receipt"] = c["id"]
            ack.send()
        elif cmd == "displayed":
            self["xep_0333"].send_marker(c["to"], c["id"], "displayed")
        elif cmd == "mam":
            # Reads the whole user archive (optionally with one peer) in pages of
            # 250 and reports the messages (or only their count) and the CPU spent.
            start_cpu, start = cpu_seconds(), time.monotonic()
            out, count = [], 0
            with_jid = slixmpp.JID(c["with"]) if c.get("with") else None
            async for m in self["xep_0313"].iterate(with_jid=with_jid, rsm={"max": 250}):
                count += 1
                if not c.get("count_only"):
                    fwd = m["mam_result"]["forwarded"]["stanza"]
                    out.append({"from": str(fwd["from"]), "body": fwd["body"],
                                "id": fwd["id"], "origin_id": fwd["origin_id"]["id"],
                                "stanza_id": m["mam_result"]["id"]})
            emit({"event": "mam", "count": count, "messages": out,
                  "cpu_seconds": cpu_seconds() - start_cpu,
                  "wall_seconds": time.monotonic() - start})
        elif cmd == "upload":
            # Encrypts a file as XEP-0454, uploads it through the XEP-0363
            # service c["service"] and sends the aesgcm:// link (body + OOB).
            # With "plain", the file goes up as it is and the link is the
            # https:// GET URL: what clients without XEP-0454 (or with
            # OMEMO off) send, readable by anyone holding the link.
            with open(c["path"], "rb") as f:
                if c.get("plain"):
                    payload, fragment = f.read(), None
                else:
                    payload, fragment = XEP_0454.encrypt(input_file=f)
            iq = self.make_iq_get(ito=c["service"])
            req = ET.Element("{%s}request" % NS_UPLOAD,
                             {"filename": c.get("filename", "file.bin"), "size": str(len(payload)),
                              "content-type": "application/octet-stream"})
            iq.xml.append(req)
            res = await iq.send()
            slot = res.xml.find("{%s}slot" % NS_UPLOAD)
            put = slot.find("{%s}put" % NS_UPLOAD)
            get_url = slot.find("{%s}get" % NS_UPLOAD).get("url")
            headers = {h.get("name"): h.text for h in put.findall("{%s}header" % NS_UPLOAD)}
            headers["Content-Type"] = "application/octet-stream"
            status = await asyncio.get_event_loop().run_in_executor(
                None, http_put, put.get("url"), payload, headers)
            if fragment is None:
                link = get_url
            else:
                link = "aesgcm://" + get_url.split("://", 1)[1] + "#" + fragment
            m = self.make_message(mto=c["to"], mbody=link, mtype="chat")
            x = ET.SubElement(m.xml, "{jabber:x:oob}x")
            ET.SubElement(x, "{jabber:x:oob}url").text = link
            m.send()
            emit({"event": "uploaded", "url": link, "count": status})
        elif cmd == "download":
            # Fetches an aesgcm:// link and decrypts it with slixmpp's XEP-0454.
            link = c["url"]
            rest, fragment = link[len("aesgcm://"):].split("#", 1)
            host = urllib.parse.urlsplit("https://" + rest).hostname
            scheme = "http" if host in ("127.0.0.1", "localhost", "::1") else "https"
            data = await asyncio.get_event_loop().run_in_executor(None, http_get, scheme + "://" + rest)
            try:
                plain = XEP_0454.decrypt(io.BytesIO(data), fragment)
            except Exception as e:
                emit({"event": "error", "error": "decrypt: " + repr(e)})
                return
            with open(c["path"], "wb") as f:
                f.write(plain)
            emit({"event": "downloaded", "count": len(plain), "sha256": hashlib.sha256(plain).hexdigest()})
        elif cmd == "quit":
            self.disconnect()
        else:
            emit({"event": "error", "error": "unknown command " + cmd})


def fallbacks(xml):
    """The XEP-0428 ranges of a message, as the stanza carries them."""
    out = []
    for f in xml.findall("{urn:xmpp:fallback:0}fallback"):
        for b in f.findall("{urn:xmpp:fallback:0}body"):
            out.append({"for": f.get("for", ""), "start": int(b.get("start", "-1")),
                        "end": int(b.get("end", "-1"))})
    return out


def http_put(url, payload, headers):
    req = urllib.request.Request(url, data=payload, method="PUT", headers=headers)
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.status


def http_get(url):
    with urllib.request.urlopen(url, timeout=60) as r:
        return r.read()


def main():
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    cfg = json.loads(sys.argv[1])
    p = Peer(cfg["jid"], cfg["password"], cfg["cafile"], cfg.get("auto_displayed", False))
    host, port = cfg["addr"].rsplit(":", 1)
    p.connect(address=(host, int(port)))
    p.add_event_handler("disconnected", lambda _: asyncio.get_event_loop().stop())
    asyncio.get_event_loop().run_forever()


if __name__ == "__main__":
    main()
