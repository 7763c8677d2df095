"""pytest: `edgeseg receive` end to end over UDP loopback, fed the Swift golden messages by a
Python "board". Checks the console log, the JSON-lines log, the SQLite alarm table, the saved
PNG, and that the ACK comes back (and decodes with the Python decoder).

The binary is taken from $EDGESEG_BIN (tools/ci.d/link.sh sets it and EDGESEG_REQUIRE_BIN=1);
otherwise .build/debug/edgeseg, and the test is skipped if it is not built."""
import json
import os
import socket
import sqlite3
import subprocess
import time

import pytest

import edgeseg_decode as ed

HERE = os.path.dirname(__file__)
GOLDEN = os.path.join(HERE, "golden")


def binary():
    path = os.environ.get("EDGESEG_BIN") or os.path.join(HERE, "..", "..", ".build", "debug", "edgeseg")
    if not os.path.exists(path):
        if os.environ.get("EDGESEG_REQUIRE_BIN") == "1":
            pytest.fail("edgeseg binary not found at %s" % path)
        pytest.skip("edgeseg not built")
    return path


def stream(name):
    with open(os.path.join(GOLDEN, name), "rb") as f:
        return list(ed.read_stream(f.read()))


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.mark.parametrize("signed", [False, True])
def test_receive_command_end_to_end(tmp_path, signed):
    port = free_port()
    suffix = "_hmac" if signed else ""
    key_args = ["--key", os.path.join(GOLDEN, "key.hex")] if signed else []
    log, db, masks = tmp_path / "events.jsonl", tmp_path / "alarms.sqlite", tmp_path / "masks"
    proc = subprocess.Popen([binary(), "receive", "--udp", "127.0.0.1:%d" % port, "--log", str(log), "--db", str(db),
                             "--masks", str(masks), "--duration", "4"] + key_args,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        board = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        board.bind(("127.0.0.1", 0))
        board.settimeout(0.2)
        msgs = [m for name in ("hello", "heartbeat", "detections", "alarm", "mask")
                for m in stream(name + suffix + ".bin")]
        acks = []
        deadline = time.time() + 3
        # Resend until the receiver is up and the alarm is acknowledged (sequence numbers repeat,
        # so repeats after the first delivery are counted as replays: that is fine here).
        while not acks and time.time() < deadline:
            for m in msgs:
                board.sendto(m, ("127.0.0.1", port))
            try:
                data, _ = board.recvfrom(2048)
                acks.append(ed.decode_message(data, ed.parse_key(open(os.path.join(GOLDEN, "key.hex"), "rb").read()) if signed else None))
            except socket.timeout:
                pass
        out, _ = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert acks, out
    assert acks[0]["type"] == "ack" and acks[0]["body"]["alarm_id"] == 9 and acks[0]["session"] == 0xA1B2C3D4
    assert "ALARM    board 16909060" in out and "HELLO" in out and "MASK" in out, out
    events = [json.loads(l) for l in log.read_text().splitlines()]
    kinds = {e["event"] for e in events}
    assert {"session", "hello", "heartbeat", "detections", "alarm", "mask"} <= kinds, kinds
    alarm = next(e for e in events if e["event"] == "alarm")
    assert alarm["after"]["bbox"] == [10, 20, 30, 40] and alarm["kind"] == "raised" and not alarm["duplicate"]
    rows = sqlite3.connect(str(db)).execute("SELECT board_id, session_id, alarm_id, revision, kind FROM alarm_event").fetchall()
    assert rows == [(0x01020304, 0xA1B2C3D4, 9, 0, "raised")]
    pngs = list(masks.iterdir())
    assert len(pngs) == 1
    assert pngs[0].read_bytes() == open(os.path.join(GOLDEN, "mask.png"), "rb").read()
