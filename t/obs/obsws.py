#!/usr/bin/env python3
"""A small obs-websocket v5 client (Python's standard library only).

    obsws.py --port PORT [--wait SECS] request TYPE [DATA-JSON]
        one request: prints the response's requestStatus and
        responseData as one JSON object; exits 0 when OBS says it
        succeeded, 1 when it refused, 2 when OBS cannot be reached
        (it retries connecting for --wait seconds, 0 by default)

    obsws.py --port PORT [--wait SECS] events FILE
        subscribes to the General and Outputs events and appends each
        one to FILE as a JSON line ({"eventType", "eventData", "time"}),
        the first being {"eventType": "Identified"}; runs until OBS
        closes the connection

The server must not require authentication (the test's OBS is started
with AuthRequired=false).  Used by t/016-obs.t; obs-websocket's protocol:
Hello (op 0), Identify (op 1), Identified (op 2), Event (op 5), Request
(op 6), RequestResponse (op 7).
"""

import argparse
import base64
import hashlib
import json
import os
import socket
import struct
import sys
import time

SUBPROTOCOL = 'obswebsocket.json'
GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
EVENTS_GENERAL = 1
EVENTS_OUTPUTS = 64


class Closed(Exception):
    pass


class WebSocket:
    """A client WebSocket (RFC 6455): text frames out (masked), text
    frames in, pings answered, fragments joined."""

    def __init__(self, host, port, timeout):
        self.sock = socket.create_connection((host, port), timeout)
        self.buf = b''
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((
            'GET / HTTP/1.1\r\n'
            'Host: %s:%d\r\n'
            'Upgrade: websocket\r\n'
            'Connection: Upgrade\r\n'
            'Sec-WebSocket-Key: %s\r\n'
            'Sec-WebSocket-Version: 13\r\n'
            'Sec-WebSocket-Protocol: %s\r\n\r\n'
            % (host, port, key, SUBPROTOCOL)).encode())

        while b'\r\n\r\n' not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b'\r\n\r\n', 1)
        lines = head.decode('latin-1').split('\r\n')
        if ' 101 ' not in lines[0] + ' ':
            raise Closed('handshake refused: %s' % lines[0])
        want = base64.b64encode(hashlib.sha1(
            (key + GUID).encode()).digest()).decode()
        fields = dict(l.split(':', 1) for l in lines[1:] if ':' in l)
        fields = {k.strip().lower(): v.strip() for k, v in fields.items()}
        if fields.get('sec-websocket-accept') != want:
            raise Closed('bad Sec-WebSocket-Accept')

    def close(self):
        try:
            self.send(struct.pack('!H', 1000), 8)
        except OSError:
            pass
        self.sock.close()

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise Closed('connection closed')
        self.buf += data

    def _take(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def _frame(self):
        b0, b1 = self._take(2)
        n = b1 & 0x7f
        if n == 126:
            n, = struct.unpack('!H', self._take(2))
        elif n == 127:
            n, = struct.unpack('!Q', self._take(8))
        mask = self._take(4) if b1 & 0x80 else None
        data = self._take(n)
        if mask:
            data = bytes(c ^ mask[i % 4] for i, c in enumerate(data))
        return b0 & 0x80, b0 & 0x0f, data

    def send(self, data, opcode=1):
        head = bytes([0x80 | opcode])
        n = len(data)
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack('!H', n)
        else:
            head += bytes([0x80 | 127]) + struct.pack('!Q', n)
        mask = os.urandom(4)
        self.sock.sendall(head + mask
                          + bytes(c ^ mask[i % 4] for i, c in enumerate(data)))

    def recv(self):
        message = b''
        while True:
            fin, opcode, data = self._frame()
            if opcode == 8:
                raise Closed('closed by the server')
            if opcode == 9:
                self.send(data, 10)
                continue
            if opcode == 10:
                continue
            message += data
            if fin:
                return message.decode()


class Obs:
    """An identified obs-websocket session."""

    def __init__(self, host, port, wait, events=0):
        deadline = time.time() + wait
        while True:
            try:
                self.ws = WebSocket(host, port, 10)
                break
            except (OSError, Closed):
                if time.time() >= deadline:
                    raise
                time.sleep(0.2)
        self.next_id = 0
        hello = self.message()
        if hello['op'] != 0:
            raise Closed('no Hello: %r' % hello)
        if 'authentication' in hello['d']:
            raise Closed('obs-websocket asks for a password')
        self.ws.send(json.dumps({'op': 1, 'd': {
            'rpcVersion': 1, 'eventSubscriptions': events}}).encode())
        while self.message()['op'] != 2:
            pass
        # events may be minutes apart: no timeout once identified
        if events:
            self.ws.sock.settimeout(None)

    def message(self):
        return json.loads(self.ws.recv())

    def request(self, rtype, data=None):
        self.next_id += 1
        rid = str(self.next_id)
        d = {'requestType': rtype, 'requestId': rid}
        if data is not None:
            d['requestData'] = data
        self.ws.send(json.dumps({'op': 6, 'd': d}).encode())
        while True:
            m = self.message()
            if m['op'] == 7 and m['d'].get('requestId') == rid:
                return m['d']


def main():
    p = argparse.ArgumentParser(description='a small obs-websocket client')
    p.add_argument('--host', default='127.0.0.1')
    p.add_argument('--port', type=int, required=True)
    p.add_argument('--wait', type=float, default=0,
                   help='seconds to keep trying to connect')
    sub = p.add_subparsers(dest='cmd', required=True)
    r = sub.add_parser('request')
    r.add_argument('type')
    r.add_argument('data', nargs='?')
    e = sub.add_parser('events')
    e.add_argument('file')
    a = p.parse_args()

    try:
        if a.cmd == 'request':
            obs = Obs(a.host, a.port, a.wait)
            d = obs.request(a.type, json.loads(a.data) if a.data else None)
            obs.ws.close()
            print(json.dumps({'requestStatus': d.get('requestStatus'),
                              'responseData': d.get('responseData')}))
            return 0 if d.get('requestStatus', {}).get('result') else 1

        obs = Obs(a.host, a.port, a.wait, EVENTS_GENERAL | EVENTS_OUTPUTS)
        with open(a.file, 'a') as out:
            out.write(json.dumps({'eventType': 'Identified',
                                  'time': time.time()}) + '\n')
            out.flush()
            while True:
                m = obs.message()
                if m['op'] != 5:
                    continue
                out.write(json.dumps({
                    'eventType': m['d'].get('eventType'),
                    'eventData': m['d'].get('eventData'),
                    'time': time.time()}) + '\n')
                out.flush()

    except (OSError, Closed, ValueError) as err:
        print('obsws: %s' % err, file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
