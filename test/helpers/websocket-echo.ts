/**
 * A minimal WebSocket echo endpoint (RFC 6455) for an upstream test server: completes the
 * handshake and sends every text frame back prefixed with `echo: `. Handles only unfragmented
 * frames shorter than 64 KiB, which is all the tests send.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Adds the echo endpoint to `server`'s upgrade event; records the request heads it saw. */
export function addWebSocketEcho(server: Server, seen: IncomingMessage[] = []): IncomingMessage[] {
  server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    seen.push(req);
    const key = req.headers['sec-websocket-key'];
    if (typeof key !== 'string' || req.headers.upgrade?.toLowerCase() !== 'websocket') {
      socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
      return;
    }
    const accept = createHash('sha1').update(key + GUID).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const opcode = buffered[0]! & 0x0f;
        let len = buffered[1]! & 0x7f;
        let offset = 2;
        if (len === 126) {
          if (buffered.length < 4) return;
          len = buffered.readUInt16BE(2);
          offset = 4;
        }
        const masked = (buffered[1]! & 0x80) !== 0;
        const mask = masked ? buffered.subarray(offset, offset + 4) : null;
        if (masked) offset += 4;
        if (buffered.length < offset + len) return;
        const payload = Buffer.from(buffered.subarray(offset, offset + len));
        if (mask) for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i % 4]!;
        buffered = buffered.subarray(offset + len);
        if (opcode === 0x8) {
          socket.end(Buffer.from([0x88, 0x00]));
          return;
        }
        if (opcode === 0x1) socket.write(frame(`echo: ${payload.toString()}`));
      }
    });
    socket.on('error', () => socket.destroy());
    // A peer that went away gets no more frames; without this the half-open socket would keep the server open.
    socket.on('end', () => socket.end());
  });
  return seen;
}

function frame(text: string): Buffer {
  const payload = Buffer.from(text);
  const head = payload.length < 126 ? Buffer.from([0x81, payload.length]) : Buffer.from([0x81, 126, payload.length >> 8, payload.length & 0xff]);
  return Buffer.concat([head, payload]);
}
