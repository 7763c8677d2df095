"""pytest: the Python decoder against golden bytes written by the Swift encoder
(Tests/EdgeSegLinkTests/ProtocolTests.swift, `encoderMatchesGoldenFiles`). The expected values
below are written out independently of both implementations."""
import os
import random
import struct

import pytest

import edgeseg_decode as ed

GOLDEN = os.path.join(os.path.dirname(__file__), "golden")
BOARD, SESSION = 0x01020304, 0xA1B2C3D4
KEY = bytes(range(32))


def golden(name):
    with open(os.path.join(GOLDEN, name), "rb") as f:
        return f.read()


def messages(name, key=None):
    return [ed.decode_message(m, key) for m in ed.read_stream(golden(name))]


def mask_pixels(w=96, h=80):
    return bytes(2 if (x * 7 + y * 13) % 11 == 0 else (1 if x > 20 and y < 10 else 0)
                 for y in range(h) for x in range(w))


def test_key_file_is_hex_of_the_shared_key():
    assert ed.parse_key(golden("key.hex")) == KEY
    raw = bytes(range(200, 168, -1))
    assert ed.parse_key(raw) == raw


@pytest.mark.parametrize("suffix,key", [("", None), ("_hmac", KEY)])
def test_every_message_type(suffix, key):
    (hello,) = messages("hello%s.bin" % suffix, key)
    assert (hello["type"], hello["board"], hello["session"], hello["seq"]) == ("hello", BOARD, SESSION, 1)
    assert hello["signed"] == (key is not None)
    assert hello["body"] == {"heartbeat_ms": 1000, "mask_width": 96, "mask_height": 80, "classes": 3, "name": "rope-cam-1"}

    (hb,) = messages("heartbeat%s.bin" % suffix, key)
    b = hb["body"]
    assert hb["seq"] == 2 and hb["timestamp_us"] == 5_250_000
    assert (b["uptime_ms"], b["fps"], b["frames"], b["dropped"], b["temperature_c"]) == (250, 29.5, 1000, 3, 51.25)
    assert (b["capture_errors"], b["decode_errors"], b["inference_overruns"], b["alarm_queue_overflows"]) == (1, 2, 4, 0)
    assert b["latency"] == [
        {"stage": "inference", "p50_us": 21000, "p99_us": 35000, "max_us": 41000},
        {"stage": "glass_to_sent", "p50_us": 48000, "p99_us": 70000, "max_us": 90000}]

    (det,) = messages("detections%s.bin" % suffix, key)
    b = det["body"]
    assert (b["frame"], b["capture_us"], b["total"], b["first"]) == (77, 5_200_000, 2, 0)
    assert b["defects"] == [
        {"class": 1, "area_px": 1234, "area_mm2": 5.5, "bbox": [1, 2, 3, 4], "centroid": [2.5, 4.0], "confidence": 0.75},
        {"class": 2, "area_px": 77, "area_mm2": None, "bbox": [100, 200, 9, 8], "centroid": [104.25, 203.5], "confidence": 0.5}]

    (alarm,) = messages("alarm%s.bin" % suffix, key)
    b = alarm["body"]
    assert (b["alarm_id"], b["revision"], b["kind"], b["class"], b["frame"], b["attempt"], b["severity"]) == (9, 0, "raised", 2, 1009, 0, 3)
    assert b["before"] == {"active": False, "severity": 0, "area_px": 0, "area_mm2": None, "confidence": 0.0, "bbox": [0, 0, 0, 0]}
    assert b["after"] == {"active": True, "severity": 3, "area_px": 429, "area_mm2": 12.5, "confidence": 0.875, "bbox": [10, 20, 30, 40]}

    (ack,) = messages("ack%s.bin" % suffix, key)
    assert ack["body"] == {"alarm_id": 9, "revision": 0, "acked_seq": 4}
    # The Python ACK encoder produces the same bytes as the Swift receiver.
    assert ed.encode_ack(BOARD, SESSION, 1, 9, 0, 4, key, timestamp_us=1_700_000_000_000_000) == next(ed.read_stream(golden("ack%s.bin" % suffix)))


@pytest.mark.parametrize("suffix,key", [("", None), ("_hmac", KEY)])
def test_mask_fragments_reassemble_in_any_order(suffix, key):
    frags = messages("mask%s.bin" % suffix, key)
    assert len(frags) == 3 and all(len(m) <= 1200 for m in ed.read_stream(golden("mask%s.bin" % suffix)))
    for order in (frags, frags[::-1], [frags[1], frags[0], frags[2]]):
        r = ed.MaskReassembler()
        done = [r.add(f) for f in order]
        assert done[:2] == [None, None]
        assert done[2]["pixels"] == mask_pixels() and (done[2]["width"], done[2]["height"]) == (96, 80)


def test_hmac_policy():
    raw = next(ed.read_stream(golden("alarm_hmac.bin")))
    plain = next(ed.read_stream(golden("alarm.bin")))
    for bad, reason in [
        (raw[:-1] + bytes([raw[-1] ^ 1]), "bad_hmac"),
        (raw[:40] + bytes([raw[40] ^ 0x10]) + raw[41:], "bad_hmac"),
    ]:
        with pytest.raises(ed.DecodeError) as e:
            ed.decode_message(bad, KEY)
        assert e.value.reason == reason
    with pytest.raises(ed.DecodeError) as e:
        ed.decode_message(plain, KEY)
    assert e.value.reason == "missing_hmac"
    with pytest.raises(ed.DecodeError) as e:
        ed.decode_message(raw, None)
    assert e.value.reason == "unexpected_hmac"
    with pytest.raises(ed.DecodeError) as e:
        ed.decode_message(raw, bytes(32))
    assert e.value.reason == "bad_hmac"


def test_hostile_headers():
    m = next(ed.read_stream(golden("alarm.bin")))
    cases = [(m[:20], "truncated"), (m[:-1], "truncated"), (m + b"\0", "oversized"), (b"E" * 1500, "oversized"),
             (b"XX" + m[2:], "bad_magic"), (m[:2] + b"\x02" + m[3:], "bad_version"),
             (m[:3] + b"\xc8" + m[4:], "unknown_type"), (m[:4] + b"\x80" + m[5:], "bad_flags"),
             (m[:5] + b"\x01" + m[6:], "bad_flags"), (m[:34] + b"\x09" + m[35:], "bad_payload")]
    for data, reason in cases:
        with pytest.raises(ed.DecodeError) as e:
            ed.decode_message(data)
        assert e.value.reason == reason, data[:8]


def test_serial_stream_recovers_after_garbage_and_rejects_the_flipped_frame():
    events = list(ed.SerialDeframer().push(golden("serial.bin")))
    frames = [ed.decode_message(v)["type"] for k, v in events if k == "frame"]
    rejects = [v for k, v in events if k == "rejected"]
    assert frames == ["hello", "alarm", "heartbeat"]
    assert rejects.count("bad_crc") == 1
    # Byte-at-a-time feeding gives the same result.
    d = ed.SerialDeframer()
    again = [ev for b in golden("serial.bin") for ev in d.push(bytes([b]))]
    assert again == events
    # The Python framer reproduces the Swift frames.
    hello = next(ed.read_stream(golden("hello.bin")))
    assert ed.serial_frame(hello) in golden("serial.bin")


def test_png_mask_decodes_to_class_ids():
    PIL = pytest.importorskip("PIL.Image")
    import io
    img = PIL.open(io.BytesIO(golden("mask.png")))
    assert img.mode == "P" and img.size == (96, 80)
    assert img.tobytes() == mask_pixels()
    assert img.getpalette()[:9] == [0, 0, 0, 255, 200, 0, 230, 20, 20]


def test_sequence_window():
    w = ed.SequenceWindow()
    assert w.check(1, 5, 10) == ("fresh", 0)
    assert w.check(1, 5, 14) == ("fresh", 3)
    assert w.check(1, 5, 12) == ("late", 0)
    assert w.check(1, 5, 12) == ("replayed", 0)
    assert w.check(1, 6, 1) == ("fresh", 0)
    assert w.check(1, 5, 15) == ("stale_session", 0)


def test_random_mutations_only_raise_decode_error():
    rng = random.Random(1234)
    seeds = [m for name in os.listdir(GOLDEN) if name.endswith(".bin") and name != "serial.bin"
             for m in ed.read_stream(golden(name))]
    for _ in range(8000):
        m = bytearray(rng.choice(seeds))
        op = rng.randrange(4)
        if op == 0:
            for _ in range(rng.randint(1, 4)):
                m[rng.randrange(len(m))] ^= 1 << rng.randrange(8)
        elif op == 1:
            m = m[:rng.randrange(len(m))]
        elif op == 2:
            length = struct.unpack_from("<H", m, 6)[0]
            m = m[:28 + length]
            m[4] = 0
            for _ in range(3):
                m[rng.randrange(28, len(m))] = rng.randrange(256)
        else:
            m = bytearray(rng.randbytes(rng.randrange(0, 1300)))
        try:
            msg = ed.decode_message(bytes(m), KEY if len(m) > 4 and m[4] & 1 else None)
            if msg["type"] == "mask":
                try:
                    ed.MaskReassembler().add(msg)
                except ed.DecodeError:
                    pass
        except ed.DecodeError:
            pass
    d = ed.SerialDeframer()
    for _ in range(300):
        list(d.push(rng.randbytes(rng.randrange(3000))))
