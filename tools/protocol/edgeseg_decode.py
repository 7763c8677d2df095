#!/usr/bin/env python3
"""Decoder for the EdgeSeg link protocol, version 1 (docs/protocol.md), for PC users who do not
run Swift. Standard library only.

    python3 edgeseg_decode.py --udp 0.0.0.0:5600 [--key key.hex] [--ack]
    python3 edgeseg_decode.py --serial /dev/ttyUSB0 --baud 921600 [--key key.hex] [--ack]
    python3 edgeseg_decode.py --stream golden/alarm.bin        # u16-length-prefixed messages
    python3 edgeseg_decode.py --serial-file capture.bin        # raw serial bytes (COBS frames)

Prints one JSON object per message. With --ack, ALARM messages are acknowledged (store them
yourself first if you need durability; `edgeseg receive --db` does that).
"""
import argparse
import hashlib
import hmac
import json
import math
import struct
import sys
import time
import zlib

MAGIC = b"ES"
VERSION = 1
HEADER = struct.Struct("<2sBBBBHIIIQ")  # magic, version, type, flags, reserved, len, board, session, seq, ts
HEADER_SIZE = 28
TAG_SIZE = 32
MAX_MESSAGE = 1200
FLAG_HMAC = 1
TYPES = {1: "hello", 2: "heartbeat", 3: "detections", 4: "mask", 5: "alarm", 6: "ack"}
ALARM_KINDS = {1: "raised", 2: "updated", 3: "cleared"}
STAGES = {0: "capture", 1: "preprocess", 2: "inference", 3: "inspect", 4: "link", 5: "glass_to_sent"}
UNKNOWN_TEMPERATURE = -32768


class DecodeError(Exception):
    """A rejected message; `reason` matches the Swift RejectReason names."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def parse_key(data: bytes) -> bytes:
    """Hex text (>= 32 hex digits, whitespace ignored) or raw bytes (>= 16)."""
    text = bytes(b for b in data if b not in b" \t\r\n")
    try:
        if len(text) >= 32 and len(text) % 2 == 0:
            return bytes.fromhex(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        pass
    return data


def _f32(v):
    return None if math.isnan(v) else v


def _box(t):
    return list(t)


def _snapshot(b):
    active, severity, _, area, mm2, conf, x, y, w, h = struct.unpack("<BBHIff4H", b)
    if active > 1:
        raise DecodeError("bad_payload")
    return {"active": bool(active), "severity": severity, "area_px": area, "area_mm2": _f32(mm2),
            "confidence": conf, "bbox": [x, y, w, h]}


def parse_body(mtype: int, p: bytes) -> dict:
    try:
        if mtype == 1:
            interval, w, h, classes, n = struct.unpack_from("<IHHBB", p)
            if n > 64 or len(p) != 10 + n:
                raise DecodeError("bad_payload")
            return {"heartbeat_ms": interval, "mask_width": w, "mask_height": h, "classes": classes,
                    "name": p[10:].decode("utf-8", "replace")}
        if mtype == 2:
            if len(p) < 56:
                raise DecodeError("bad_payload")
            f = struct.unpack_from("<QfIIhHIIIIIIIB", p)
            n = f[13]
            if n > 8 or len(p) != 56 + 13 * n:
                raise DecodeError("bad_payload")
            lat = []
            for i in range(n):
                st, p50, p99, mx = struct.unpack_from("<BIII", p, 56 + 13 * i)
                lat.append({"stage": STAGES.get(st, "stage%d" % st), "p50_us": p50, "p99_us": p99, "max_us": mx})
            return {"uptime_ms": f[0], "fps": f[1], "frames": f[2], "dropped": f[3],
                    "temperature_c": None if f[4] == UNKNOWN_TEMPERATURE else f[4] / 100.0,
                    "alarm_queue_depth": f[5], "alarm_queue_overflows": f[6], "alarm_retransmissions": f[7],
                    "send_errors": f[8], "capture_errors": f[9], "decode_errors": f[10],
                    "inference_overruns": f[11], "rx_rejected": f[12], "latency": lat}
        if mtype == 3:
            if len(p) < 20:
                raise DecodeError("bad_payload")
            frame, ts, total, first, n = struct.unpack_from("<IQHHB", p)
            if n > 32 or len(p) != 20 + 32 * n or first + n > total:
                raise DecodeError("bad_payload")
            defects = []
            for i in range(n):
                cls, flags, _, area, mm2, x, y, w, h, cx, cy, conf = struct.unpack_from("<BBHIf4Hfff", p, 20 + 32 * i)
                if flags > 1:
                    raise DecodeError("bad_payload")
                defects.append({"class": cls, "area_px": area, "area_mm2": mm2 if flags == 1 else None,
                                "bbox": [x, y, w, h], "centroid": [cx, cy], "confidence": conf})
            return {"frame": frame, "capture_us": ts, "total": total, "first": first, "defects": defects}
        if mtype == 4:
            if len(p) < 20:
                raise DecodeError("bad_payload")
            frame, w, h, enc, classes, idx, count, size, total = struct.unpack_from("<IHHBBHHHI", p)
            if enc != 1 or w == 0 or h == 0 or size == 0 or count == 0 or idx >= count or total == 0:
                raise DecodeError("bad_payload")
            if (total + size - 1) // size != count or len(p) - 20 != min(size, total - idx * size):
                raise DecodeError("bad_payload")
            return {"frame": frame, "width": w, "height": h, "classes": classes, "index": idx, "count": count,
                    "chunk_size": size, "total_length": total, "chunk": p[20:]}
        if mtype == 5:
            if len(p) != 64:
                raise DecodeError("bad_payload")
            aid, rev, kind, cls, frame, attempt = struct.unpack_from("<IHBBIH", p)
            if kind not in ALARM_KINDS:
                raise DecodeError("bad_payload")
            before, after = _snapshot(p[16:40]), _snapshot(p[40:64])
            return {"alarm_id": aid, "revision": rev, "kind": ALARM_KINDS[kind], "class": cls, "frame": frame,
                    "attempt": attempt, "severity": (before if kind == 3 else after)["severity"],
                    "before": before, "after": after}
        if mtype == 6:
            if len(p) != 12:
                raise DecodeError("bad_payload")
            aid, rev, _, seq = struct.unpack("<IHHI", p)
            return {"alarm_id": aid, "revision": rev, "acked_seq": seq}
    except struct.error:
        raise DecodeError("bad_payload")
    raise DecodeError("unknown_type")


def decode_message(data: bytes, key: bytes = None) -> dict:
    """Validates framing and (with a key) the HMAC, then parses the payload."""
    if len(data) > MAX_MESSAGE:
        raise DecodeError("oversized")
    if len(data) < HEADER_SIZE:
        raise DecodeError("truncated")
    magic, ver, mtype, flags, reserved, length, board, session, seq, ts = HEADER.unpack_from(data)
    if magic != MAGIC:
        raise DecodeError("bad_magic")
    if ver != VERSION:
        raise DecodeError("bad_version")
    if mtype not in TYPES:
        raise DecodeError("unknown_type")
    if flags & ~FLAG_HMAC or reserved != 0:
        raise DecodeError("bad_flags")
    tag_len = TAG_SIZE if flags & FLAG_HMAC else 0
    expected = HEADER_SIZE + length + tag_len
    if len(data) < expected:
        raise DecodeError("truncated")
    if len(data) > expected:
        raise DecodeError("oversized")
    signed = data[:HEADER_SIZE + length]
    if key is None and tag_len:
        raise DecodeError("unexpected_hmac")
    if key is not None:
        if not tag_len:
            raise DecodeError("missing_hmac")
        if not hmac.compare_digest(hmac.new(key, signed, hashlib.sha256).digest(), data[HEADER_SIZE + length:]):
            raise DecodeError("bad_hmac")
    body = parse_body(mtype, data[HEADER_SIZE:HEADER_SIZE + length])
    return {"type": TYPES[mtype], "board": board, "session": session, "seq": seq, "timestamp_us": ts,
            "signed": bool(tag_len), "body": body}


def encode_ack(board: int, session: int, seq: int, alarm_id: int, revision: int, acked_seq: int,
               key: bytes = None, timestamp_us: int = None) -> bytes:
    ts = int(time.monotonic() * 1e6) if timestamp_us is None else timestamp_us
    payload = struct.pack("<IHHI", alarm_id, revision, 0, acked_seq)
    header = HEADER.pack(MAGIC, VERSION, 6, FLAG_HMAC if key else 0, 0, len(payload), board, session, seq, ts)
    msg = header + payload
    return msg + hmac.new(key, msg, hashlib.sha256).digest() if key else msg


# --- mask RLE and reassembly -------------------------------------------------------------

def rle_decode(data: bytes, pixels: int, classes: int) -> bytes:
    out = bytearray()
    i = 0
    while i < len(data):
        v = data[i]
        i += 1
        if v >= classes:
            raise DecodeError("bad_payload")
        run, shift = 0, 0
        while True:
            if i >= len(data):
                raise DecodeError("bad_payload")
            b = data[i]
            i += 1
            if shift > 28:
                raise DecodeError("bad_payload")
            run |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        if run == 0 or len(out) + run > pixels:
            raise DecodeError("bad_payload")
        out += bytes([v]) * run
    if len(out) != pixels:
        raise DecodeError("bad_payload")
    return bytes(out)


class MaskReassembler:
    """Collects MASK fragments per (board, session, frame); returns the mask when complete."""

    def __init__(self, slots=4, max_encoded=1 << 20):
        self.slots, self.max_encoded, self.pending = slots, max_encoded, {}

    def add(self, msg: dict):
        b = msg["body"]
        if b["total_length"] > self.max_encoded:
            return None
        key = (msg["board"], msg["session"], b["frame"])
        shape = (b["width"], b["height"], b["classes"], b["count"], b["chunk_size"], b["total_length"])
        entry = self.pending.get(key)
        if entry is None:
            if len(self.pending) >= self.slots:
                self.pending.pop(next(iter(self.pending)))  # oldest
            entry = self.pending[key] = {"shape": shape, "chunks": {}}
        if entry["shape"] != shape:
            return None
        entry["chunks"][b["index"]] = b["chunk"]
        if len(entry["chunks"]) < b["count"]:
            return None
        del self.pending[key]
        data = b"".join(entry["chunks"][i] for i in range(b["count"]))
        pixels = rle_decode(data, b["width"] * b["height"], b["classes"])
        return {"board": msg["board"], "session": msg["session"], "frame": b["frame"],
                "width": b["width"], "height": b["height"], "pixels": pixels}


# --- serial framing ----------------------------------------------------------------------

def cobs_decode(data: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(data):
        code = data[i]
        if code == 0:
            raise DecodeError("bad_framing")
        i += 1
        end = i + code - 1
        if end > len(data):
            raise DecodeError("bad_framing")
        block = data[i:end]
        if 0 in block:
            raise DecodeError("bad_framing")
        out += block
        i = end
        if code != 0xFF and i < len(data):
            out.append(0)
    return bytes(out)


def cobs_encode(data: bytes) -> bytes:
    out = bytearray([0])
    code_i, code = 0, 1
    for b in data:
        if b == 0:
            out[code_i] = code
            code_i, code = len(out), 1
            out.append(0)
        else:
            out.append(b)
            code += 1
            if code == 0xFF:
                out[code_i] = code
                code_i, code = len(out), 1
                out.append(0)
    out[code_i] = code
    return bytes(out)


def serial_frame(message: bytes) -> bytes:
    return b"\x00" + cobs_encode(message + struct.pack("<I", zlib.crc32(message))) + b"\x00"


class SerialDeframer:
    """Feed raw bytes; yields ("frame", message) or ("rejected", reason)."""

    def __init__(self, max_frame=1211):
        self.buf, self.discarding, self.max_frame = bytearray(), False, max_frame

    def push(self, data: bytes):
        for b in data:
            if b:
                if self.discarding:
                    continue
                if len(self.buf) == self.max_frame:
                    self.buf.clear()
                    self.discarding = True
                    yield ("rejected", "bad_framing")
                    continue
                self.buf.append(b)
                continue
            if self.discarding:
                self.discarding = False
                self.buf.clear()
                continue
            if not self.buf:
                continue
            raw, self.buf = bytes(self.buf), bytearray()
            try:
                dec = cobs_decode(raw)
            except DecodeError:
                yield ("rejected", "bad_framing")
                continue
            if len(dec) < 4:
                yield ("rejected", "bad_framing")
                continue
            body, crc = dec[:-4], struct.unpack("<I", dec[-4:])[0]
            if zlib.crc32(body) != crc:
                yield ("rejected", "bad_crc")
                continue
            yield ("frame", body)


class SequenceWindow:
    """Replay/gap check per board session (64-wide sliding window, as the Swift receiver)."""

    def __init__(self):
        self.sessions = {}

    def check(self, board, session, seq):
        st = self.sessions.get(board)
        if st is None or st["session"] != session:
            if st is not None and session in st["retired"]:
                return "stale_session", 0
            retired = (st["retired"] + [st["session"]])[-8:] if st else []
            self.sessions[board] = {"session": session, "high": seq, "seen": 1, "retired": retired}
            return "fresh", 0
        if seq > st["high"]:
            shift = seq - st["high"]
            st["seen"] = 1 if shift >= 64 else ((st["seen"] << shift) | 1) & (2**64 - 1)
            st["high"] = seq
            return "fresh", shift - 1
        back = st["high"] - seq
        if back >= 64 or st["seen"] >> back & 1:
            return "replayed", 0
        st["seen"] |= 1 << back
        return "late", 0


def read_stream(data: bytes):
    """Golden/stream files: each message as u16 little-endian length + bytes."""
    i = 0
    while i + 2 <= len(data):
        n = struct.unpack_from("<H", data, i)[0]
        yield data[i + 2:i + 2 + n]
        i += 2 + n


def _json_default(o):
    if isinstance(o, (bytes, bytearray)):
        return o.hex()
    raise TypeError(type(o))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--udp", help="listen on HOST:PORT")
    src.add_argument("--serial", help="serial device")
    src.add_argument("--stream", help="file of u16-length-prefixed messages")
    src.add_argument("--serial-file", help="file of raw serial bytes")
    ap.add_argument("--baud", type=int, default=921600)
    ap.add_argument("--key", help="HMAC key file (hex or raw)")
    ap.add_argument("--ack", action="store_true", help="acknowledge ALARM messages")
    args = ap.parse_args(argv)
    key = parse_key(open(args.key, "rb").read()) if args.key else None
    window, masks = SequenceWindow(), MaskReassembler()
    ack_seq = [1]

    def emit(obj):
        print(json.dumps(obj, default=_json_default), flush=True)

    def handle(raw, reply=None):
        try:
            msg = decode_message(raw, key)
        except DecodeError as e:
            return emit({"event": "rejected", "reason": e.reason})
        verdict, missing = window.check(msg["board"], msg["session"], msg["seq"])
        if verdict in ("replayed", "stale_session"):
            return emit({"event": "rejected", "reason": verdict})
        if missing:
            emit({"event": "gap", "board": msg["board"], "from": msg["seq"] - missing, "to": msg["seq"] - 1})
        if msg["type"] == "mask":
            done = masks.add(msg)
            if done:
                emit({"event": "mask", **{k: v for k, v in done.items() if k != "pixels"}})
            return
        emit({"event": msg["type"], **msg})
        if msg["type"] == "alarm" and args.ack and reply:
            b = msg["body"]
            reply(encode_ack(msg["board"], msg["session"], ack_seq[0], b["alarm_id"], b["revision"], msg["seq"], key))
            ack_seq[0] += 1

    if args.stream:
        for m in read_stream(open(args.stream, "rb").read()):
            handle(m)
    elif args.serial_file:
        for kind, v in SerialDeframer().push(open(args.serial_file, "rb").read()):
            handle(v) if kind == "frame" else emit({"event": "rejected", "reason": v})
    elif args.udp:
        import socket
        host, port = args.udp.rsplit(":", 1)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((host, int(port)))
        while True:
            data, addr = s.recvfrom(2048)
            handle(data, lambda b, a=addr: s.sendto(b, a))
    else:
        import os
        import termios
        import tty
        fd = os.open(args.serial, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(fd)
        attrs = termios.tcgetattr(fd)
        speed = getattr(termios, "B%d" % args.baud)
        attrs[4] = attrs[5] = speed
        termios.tcsetattr(fd, termios.TCSANOW, attrs)
        deframer = SerialDeframer()
        while True:
            for kind, v in deframer.push(os.read(fd, 4096)):
                if kind == "frame":
                    handle(v, lambda b: os.write(fd, serial_frame(b)))
                else:
                    emit({"event": "rejected", "reason": v})


if __name__ == "__main__":
    sys.exit(main())
