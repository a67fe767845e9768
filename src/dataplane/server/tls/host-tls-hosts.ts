/**
 * Which SNI names get TLS parameters of their own (cipher list, versions, cipher order): the
 * virtual hosts with `tlsParameters`, looked up as the router takes a Host (sni-host-index.ts).
 */
import type { RoutingTable } from '../../../model/table.ts';
import type { HostTlsParameters } from '../../../model/tls-parameters.ts';
import { SniHostIndex } from './sni-host-index.ts';

/** The hosts of one table whose handshakes have TLS parameters of their own, by SNI name; null: the listener's. */
export class HostTlsHosts extends SniHostIndex<HostTlsParameters> {
  /** The index of `table`'s virtual hosts among `listeners` (names). */
  constructor(table: RoutingTable, listeners: ReadonlySet<string>) {
    super(table, listeners, (vhost) => vhost.tlsParameters ?? null);
  }
}
