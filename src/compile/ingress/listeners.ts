/**
 * The listeners of the Ingress front end: one plain HTTP and one HTTPS, on the data plane's own
 * ports (`--http-port`, `--https-port`). Every Ingress virtual host is served on both, and both send
 * what no route takes to the default backend; HTTPS offers every certificate of the table by SNI.
 */
import type { Listener } from '../../model/table.ts';

/** The Ingress front end's listeners, sorted by name. */
export const INGRESS_LISTENER_LIST: readonly Listener[] = Object.freeze([
  Object.freeze({ name: 'http', protocol: 'HTTP', port: null, hostname: null, tls: null, defaultRoute: true, provenance: 'Listener/http' }),
  Object.freeze({ name: 'https', protocol: 'HTTPS', port: null, hostname: null, tls: Object.freeze({ certificates: null }), defaultRoute: true, provenance: 'Listener/https' }),
] satisfies Listener[]);

/** The names of {@link INGRESS_LISTENER_LIST}: every Ingress virtual host is served on both. */
export const INGRESS_LISTENERS: readonly string[] = Object.freeze(INGRESS_LISTENER_LIST.map((l) => l.name));
