/**
 * How the kernel spread client connections over signalbox's workers, read from Linux /proc. Every
 * worker thread runs its own libuv loop, hence its own epoll instance, and an epoll's fdinfo lists
 * the inode of each socket it watches; /proc/net/tcp gives the inodes of the connections to a port.
 * The workers share one listening port (SO_REUSEPORT), so the split is the kernel's hash of each
 * connection's addresses: with few connections it is a lottery (two connections land on one of two
 * workers half the time).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Inodes of the established IPv4 connections whose local port is `port`. */
function connectionInodes(port: number): Set<number> {
  const inodes = new Set<number>();
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …; st 01 = ESTABLISHED
    const f = line.trim().split(/\s+/);
    if (f[3] === '01' && Number.parseInt(f[1]?.split(':')[1] ?? '', 16) === port) inodes.add(Number(f[9]));
  }
  return inodes;
}

/**
 * Client connections to `port` watched by each event loop of process `pid`, largest first, padded
 * with zeros to `loops` entries (e.g. [1, 1] or [2, 0] for two connections and two workers); null
 * where /proc cannot be read.
 */
export function connectionsPerLoop(pid: number, port: number, loops: number): number[] | null {
  try {
    const wanted = connectionInodes(port);
    const counts: number[] = [];
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue; // closed meanwhile
      }
      if (link !== 'anon_inode:[eventpoll]') continue;
      const info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
      let count = 0;
      for (const match of info.matchAll(/^tfd:.*\bino:([0-9a-f]+)/gm)) if (wanted.has(Number.parseInt(match[1]!, 16))) count++;
      if (count > 0) counts.push(count);
    }
    counts.sort((a, b) => b - a);
    while (counts.length < loops) counts.push(0);
    return counts;
  } catch {
    return null;
  }
}
