"""A scripted foreign XMPP client for Rounds' interop tests.

It is Debian's slixmpp, a client Rounds did not write, speaking TCP c2s with STARTTLS
to the same server. Commands arrive as JSON lines on stdin; everything it sees leaves
as JSON lines on stdout. It answers receipt requests (XEP-0184) by itself, and
displayed markers (XEP-0333) when asked to.
"""
import asyncio
import json
import logging
import resource
import ssl
import sys
import time

import slixmpp


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
                  "xep_0297", "xep_0313", "xep_0333", "xep_0359"):
            self.register_plugin(p)
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
        })
        if self.auto_displayed and msg.xml.find("{urn:xmpp:chat-markers:0}markable") is not None:
            self["xep_0333"].send_marker(msg["from"], msg["id"], "displayed")

    def on_receipt(self, msg):
        emit({"event": "receipt", "from": str(msg["from"]), "id": msg["receipt"]})

    def on_displayed(self, msg):
        emit({"event": "displayed", "from": str(msg["from"]), "id": msg["displayed"]["id"]})

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
        elif cmd == "quit":
            self.disconnect()
        else:
            emit({"event": "error", "error": "unknown command " + cmd})


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
