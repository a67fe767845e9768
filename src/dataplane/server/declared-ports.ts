import type { RoutingTable } from '../../model/table.ts';

/** What a declared port serves: plain HTTP, or TLS (passthrough by SNI, else termination). */
export type PortKind = 'http' | 'https';

/** The data plane's own ports as bound: a listener on one of them shares that socket. */
export interface OwnPorts {
  readonly http: number;
  readonly https: number | null;
}

/** The sockets a table needs beyond the data plane's own, and the listeners it cannot serve. */
export interface DeclaredPorts {
  /** Each port to open, with what it serves. */
  readonly ports: ReadonlyMap<number, PortKind>;
  /**
   * Listeners on an own port of the other kind (an HTTPS or TLS listener on the own HTTP port, an
   * HTTP one on the own HTTPS port), by port: that socket cannot serve them.
   */
  readonly misplaced: ReadonlyMap<number, readonly string[]>;
}

/**
 * The ports the HTTP, HTTPS and TLS listeners of `table` declare, apart from the own ones, which
 * serve their listeners already (PreparedTable.routerFor). HTTPS and TLS listeners on one port share
 * a TLS socket; an HTTP listener on a port with HTTPS or TLS ones is refused by the table check, and
 * here the first listener of the port, in table order, decides.
 */
export function declaredPorts(table: RoutingTable, own: OwnPorts): DeclaredPorts {
  const ports = new Map<number, PortKind>();
  const misplaced = new Map<number, string[]>();
  for (const l of table.listeners) {
    if (l.port === null || (l.protocol !== 'HTTP' && l.protocol !== 'HTTPS' && l.protocol !== 'TLS')) continue;
    const kind: PortKind = l.protocol === 'HTTP' ? 'http' : 'https';
    const ownKind: PortKind | null = l.port === own.http ? 'http' : l.port === own.https ? 'https' : null;
    if (ownKind === kind) continue;
    if (ownKind !== null) {
      const list = misplaced.get(l.port);
      if (list === undefined) misplaced.set(l.port, [l.name]);
      else list.push(l.name);
      continue;
    }
    if (!ports.has(l.port)) ports.set(l.port, kind);
  }
  return { ports, misplaced };
}
