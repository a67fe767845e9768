import type { RoutingTable } from '../../model/table.ts';

/** What a declared port serves: plain HTTP, or TLS (passthrough by SNI, else termination). */
export type PortKind = 'http' | 'https';

/** The data plane's own ports as bound: a listener on one of them shares that socket. */
export interface OwnPorts {
  readonly http: number;
  readonly https: number | null;
}

/** One socket a table needs beyond the data plane's own: where it is bound, and what it speaks. */
export interface DeclaredSocket {
  /** The address of its listeners (Listener.address); null: the bind address. */
  readonly address: string | null;
  readonly port: number;
  readonly kind: PortKind;
  /**
   * An address socket on the own port number of its kind: it also serves its address's listeners
   * with port null. Always false without an address (the own sockets serve those).
   */
  readonly portNull: boolean;
}

/** The sockets a table needs beyond the data plane's own, and the listeners it cannot serve. */
export interface DeclaredPorts {
  /** Each socket to open, by {@link socketKey}. */
  readonly sockets: ReadonlyMap<string, DeclaredSocket>;
  /**
   * Listeners on an own port of the other kind (an HTTPS or TLS listener on the own HTTP port, an
   * HTTP one on the own HTTPS port), by port: that socket cannot serve them.
   */
  readonly misplaced: ReadonlyMap<number, readonly string[]>;
}

/**
 * The key of a declared socket, which is also its label in the listener metrics: the port alone on
 * the bind address (as it always was), `<address>:<port>` on an address of its own (`[<v6>]:<port>`).
 */
export function socketKey(address: string | null, port: number): string {
  if (address === null) return String(port);
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * The sockets the HTTP, HTTPS and TLS listeners of `table` declare, apart from the own ones, which
 * serve their listeners already (PreparedTable.routerFor). HTTPS and TLS listeners on one port share
 * a TLS socket; an HTTP listener on a port with HTTPS or TLS ones is refused by the table check, and
 * here the first listener of the port, in table order, decides.
 *
 * A listener with an address is on a socket of its own address and port, its port null meaning the
 * own port number of its protocol (as bound); it never shares the own sockets, so its protocol is
 * never misplaced. With the HTTPS port turned off, an address listener of HTTPS or TLS with port null
 * has no port to be on, as on the own sockets.
 */
export function declaredPorts(table: RoutingTable, own: OwnPorts): DeclaredPorts {
  const sockets = new Map<string, DeclaredSocket>();
  const misplaced = new Map<number, string[]>();
  for (const l of table.listeners) {
    if (l.protocol !== 'HTTP' && l.protocol !== 'HTTPS' && l.protocol !== 'TLS') continue;
    const kind: PortKind = l.protocol === 'HTTP' ? 'http' : 'https';
    const ownOfKind = kind === 'http' ? own.http : own.https;
    if (l.address !== undefined) {
      const port = l.port ?? ownOfKind;
      if (port === null) continue;
      const key = socketKey(l.address, port);
      if (!sockets.has(key)) sockets.set(key, { address: l.address, port, kind, portNull: port === ownOfKind });
      continue;
    }
    if (l.port === null) continue;
    const ownKind: PortKind | null = l.port === own.http ? 'http' : l.port === own.https ? 'https' : null;
    if (ownKind === kind) continue;
    if (ownKind !== null) {
      const list = misplaced.get(l.port);
      if (list === undefined) misplaced.set(l.port, [l.name]);
      else list.push(l.name);
      continue;
    }
    const key = socketKey(null, l.port);
    if (!sockets.has(key)) sockets.set(key, { address: null, port: l.port, kind, portNull: false });
  }
  return { sockets, misplaced };
}

/**
 * `table` with the address removed from the listeners whose address is the data plane's bind
 * address itself: they are served by the sockets of the bind address (the own ones and the declared
 * ports). A socket of their own would join those sockets' SO_REUSEPORT group on the same address
 * and port, and the kernel would spread their connections over both, each serving other listeners.
 */
export function onBindAddress(table: RoutingTable, bindAddress: string): RoutingTable {
  if (!table.listeners.some((l) => l.address === bindAddress)) return table;
  const listeners = table.listeners.map((l) => {
    if (l.address !== bindAddress) return l;
    const { address: _bound, ...rest } = l;
    return rest;
  });
  return { ...table, listeners };
}
