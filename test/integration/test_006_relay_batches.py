"""The relay under bursts (issue 7): messages that arrive together are
committed together, and every one of them is still stored once and
broadcast after its commit, in the room's order; the flood limit is a
token bucket that a burst within --max-burst does not trip."""
import subprocess
import time

import pytest

from accounts import new_user
from test_003_chat_rest import history, start
from test_004_relay_ws import owner, visitor, ws_url
from wsclient import WS


def open_rooms(env, client, n):
    _, _, own = new_user(env, client, full_name="Burst Owner")
    rooms = []
    for i in range(n):
        r = start(client, own["user"]["id"], "Burst %d" % i).json()
        rooms.append({"owner": own, "id": r["room_id"],
                      "vt": r["visitor_token"], "path": r["ws_path"],
                      "token": own["tokens"]["access"]})
    return rooms


def relay_cpu_ticks(pid):
    """User + system clock ticks of process `pid` so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def stored(client, room):
    return history(client, room["id"], visitor=room["vt"],
                   query="limit=500").json()


def test_ci_006_01_bursts_in_many_rooms(env, client):
    """Four rooms, a visitor and an owner socket in each; every visitor
    sends 30 messages back to back (within the burst) while the owners
    answer. Each socket receives exactly its room's messages, each once,
    in the order the room stored them."""
    rooms = open_rooms(env, client, 4)
    socks = [(visitor(env, r), owner(env, r)) for r in rooms]
    try:
        sent = {r["id"]: [] for r in rooms}
        for k in range(30):
            for r, (v, o) in zip(rooms, socks):
                text = "%s v%d" % (r["id"][:8], k)
                v.send({"message": text})
                sent[r["id"]].append(text)
                if k % 10 == 0:
                    text = "%s o%d" % (r["id"][:8], k)
                    o.send({"message": text})
                    sent[r["id"]].append(text)
        for r, (v, o) in zip(rooms, socks):
            n = len(sent[r["id"]])
            got = [s.recv_n(n) for s in (v, o)]   # broadcast: committed
            want = stored(client, r)
            assert sorted(m["content"] for m in want) == sorted(sent[r["id"]])
            order = [(m["id"], m["content"]) for m in want]
            for s, frames in zip((v, o), got):
                assert [(f["id"], f["message"]) for f in frames] == order
                assert all(f["room_id"] == r["id"] for f in frames)
                assert s.quiet()            # nothing twice, nothing else
            # the visitor's own order is kept within the room's order
            mine = [c for _, c in order if " v" in c]
            assert mine == ["%s v%d" % (r["id"][:8], k) for k in range(30)]
    finally:
        for pair in socks:
            for s in pair:
                s.close()


def test_ci_006_02_sender_gone_before_commit(env, client):
    """A visitor that sends and hangs up at once: its messages are
    committed and reach the owner all the same."""
    (room,) = open_rooms(env, client, 1)
    o = owner(env, room)
    try:
        v = visitor(env, room)
        for k in range(5):
            v.send({"message": "parting %d" % k})
        v.close()
        got = [f["message"] for f in o.recv_n(5)]
        assert got == ["parting %d" % k for k in range(5)]
        assert [m["content"] for m in stored(client, room)] == got
    finally:
        o.close()


def test_ci_006_03_token_bucket(env, client, tmp_path):
    """--max-rate 5 --max-burst 5: five at once pass, five more after a
    second's refill pass, a burst beyond what is left closes with 1008."""
    from conftest import Client, TEST_EXTRA
    from devtools.carinfo_dev.instance import Instance, free_ports
    inst = Instance(str(tmp_path / "rate"), *free_ports(2),
                    db=(env.driver, env.db_params), build=env.build,
                    extra=TEST_EXTRA, jwt_key=env.inst.jwt_key,
                    relay_options=["--max-rate", "5", "--max-burst", "5"])
    inst.start()
    c = Client(inst, "rate")
    try:
        (room,) = open_rooms(env, c, 1)
        v = WS(ws_url(inst, room["path"], visitor=room["vt"]))
        try:
            for burst in range(2):
                for k in range(5):
                    v.send({"message": "b%d m%d" % (burst, k)})
                got = [f["message"] for f in v.recv_n(5)]
                assert got == ["b%d m%d" % (burst, k) for k in range(5)]
                v.idle(1.1)                 # refills 5 tokens
            t0 = time.monotonic()
            for k in range(100):
                try:
                    v.send({"message": "too many %d" % k})
                except Exception:
                    break
            assert v.close_code() == 1008
            refill = 5 * (time.monotonic() - t0)
        finally:
            v.close()
        texts = [m["content"] for m in stored(c, room)]
        assert texts[:10] == ["b%d m%d" % (b, k) for b in range(2)
                              for k in range(5)]
        # the flood was cut short: the bucket's 5 and what refilled meanwhile
        assert len(texts) <= 10 + 5 + refill + 1, (len(texts), refill)
        inst.errorlog.ignore_recent(lognos=["CI10537"])
        assert inst.errorlog.check() == []
    finally:
        c.close()
        inst.stop()


@pytest.mark.parametrize("args,says", [
    (["--max-rate", "-1"], "--max-rate '-1'"),
    (["--max-rate", "lots"], "--max-rate 'lots'"),
    (["--max-burst", "0"], "--max-burst '0'"),
    (["--max-burst", "2000000"], "--max-burst '2000000'"),
])
def test_ci_006_04_bad_rate_options(env, args, says):
    """A bad limit is a configuration error: exit status 254 (httpd does
    not restart it), and the message names the option."""
    r = subprocess.run([env.build.relay_bin, "--dbparams", "/nonexistent"]
                       + args, capture_output=True, timeout=10)
    assert r.returncode == 254
    assert says in r.stderr.decode()


def test_ci_006_05_descriptor_limit(env, tmp_path):
    """A relay out of file descriptors holds what it has, waits instead of
    spinning on failed accept()s (the listening socket stays readable)
    without flooding its log, and serves again once sockets close."""
    import os
    import socket
    import urllib.request
    from devtools.carinfo_dev.instance import free_port
    port = free_port()
    log_path = tmp_path / "relay.log"
    with open(log_path, "wb") as log:
        relay = subprocess.Popen(
            ["prlimit", "--nofile=200:200", env.build.relay_bin,
             "--listen", "127.0.0.1:%d" % port, "--dbdriver", env.driver,
             "--dbparams", env.db_params, "--parent-pid", "0"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    socks = []
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socks.append(socket.create_connection(("127.0.0.1", port), 2))
                break
            except OSError:
                assert time.monotonic() < deadline, "relay did not start"
                time.sleep(0.1)
        for _ in range(299):                # beyond the limit: backlog
            socks.append(socket.create_connection(("127.0.0.1", port), 2))
        t0 = relay_cpu_ticks(relay.pid)
        time.sleep(2)
        busy = relay_cpu_ticks(relay.pid) - t0  # a spinning relay: ~200
        assert busy < 50, "relay spins at its descriptor limit (%d)" % busy
        assert len(os.listdir("/proc/%d/fd" % relay.pid)) < 200
        for s in socks:
            s.close()
        socks = []
        deadline = time.monotonic() + 10
        while True:
            try:
                r = urllib.request.urlopen(
                    "http://127.0.0.1:%d/health" % port, timeout=2)
                assert r.status == 200
                break
            except OSError:
                assert time.monotonic() < deadline, "relay did not recover"
                time.sleep(0.2)
        assert relay.poll() is None
    finally:
        for s in socks:
            s.close()
        relay.terminate()
        relay.wait(10)
    lines = log_path.read_text().splitlines()
    assert len(lines) < 30, "log flooded: %d lines" % len(lines)


def test_ci_006_06_slow_reader(env, client, tmp_path):
    """An owner socket that stops reading: the visitor's own frames keep
    flowing; once CI_RELAY_MAX_LAG frames wait for the owner, its socket
    is closed (1008) without the relay spinning while the owner still does
    not read, and what the owner did get is a prefix of the room's
    messages, in order. A slow reader that vanishes costs no CPU either."""
    import websockets
    from conftest import Client, TEST_EXTRA
    from devtools.carinfo_dev.instance import Instance, free_ports
    inst = Instance(str(tmp_path / "slow"), *free_ports(2),
                    db=(env.driver, env.db_params), build=env.build,
                    extra=TEST_EXTRA, jwt_key=env.inst.jwt_key,
                    relay_options=["--max-rate", "0"])
    inst.start()
    c = Client(inst, "slow")
    try:
        (room,) = open_rooms(env, c, 1)
        direct = "ws://127.0.0.1:%d%s" % (inst.relay_port, room["path"])
        o = WS(direct + "?token=" + room["token"])     # never reads below
        v = WS(direct + "?visitor=" + room["vt"])
        pad = "x" * 3900
        try:
            for i in range(1300):
                v.send({"message": "m%04d %s" % (i, pad)})
                echo = v.recv()                        # not held up
                assert echo["message"].startswith("m%04d " % i)
            # The owner's socket is being closed and still not read: the
            # relay waits (CLOSE_GRACE) without spinning.
            time.sleep(0.5)
            t0 = relay_cpu_ticks(inst.relay_pid())
            time.sleep(2)
            assert relay_cpu_ticks(inst.relay_pid()) - t0 < 50  # of 200
            got, code = [], None
            try:
                while True:
                    got.append(o.recv()["message"][:5])
            except websockets.exceptions.ConnectionClosed as e:
                code = e.code
            assert code in (1008, 1006)
            assert 0 < len(got) < 1300
            assert got == ["m%04d" % i for i in range(len(got))]
        finally:
            v.close()
            o.close()
        assert len(stored(c, room)) == 500             # all stored (page)
        # A slow reader that goes away with frames still waiting: the
        # relay has nothing half-written to flush, so it does not spin.
        o = WS(direct + "?token=" + room["token"])
        v = WS(direct + "?visitor=" + room["vt"])
        try:
            for i in range(300):
                v.send({"message": "n%04d %s" % (i, pad)})
                v.recv()
            o.ws.transport.abort()
            time.sleep(0.5)
            t0 = relay_cpu_ticks(inst.relay_pid())
            time.sleep(2)
            assert relay_cpu_ticks(inst.relay_pid()) - t0 < 50  # of 200
            v.send({"message": "still here"})
            assert v.recv()["message"] == "still here"
        finally:
            v.close()
            o.close()
        inst.errorlog.ignore_recent(lognos=["CI10533"])
        assert inst.errorlog.check() == []
    finally:
        c.close()
        inst.stop()
