/**
 * The Secrets and ConfigMaps a Service's backend TLS annotations name, so that the API source
 * caches them: `signalbox.dev/backend-tls-ca` (a Secret's `ca.crt` or a ConfigMap key) and
 * `signalbox.dev/backend-tls-client-certificate` (a TLS Secret). A value that does not parse is
 * still followed by name where it can be: the compiler reports it, and caching one object too many
 * is harmless.
 */

/** What one Service names, as `namespace/name` keys. */
export interface ServiceRefs {
  readonly secrets: readonly string[];
  readonly configMaps: readonly string[];
}

/** The Secrets and ConfigMaps named by the annotations of `service` (in its own namespace). */
export function serviceSecretRefs(service: { readonly metadata?: { readonly namespace?: string; readonly annotations?: Readonly<Record<string, string>> } }): ServiceRefs {
  const annotations = service.metadata?.annotations;
  if (annotations === undefined) return { secrets: [], configMaps: [] };
  const namespace = service.metadata?.namespace ?? '';
  const secrets: string[] = [];
  const configMaps: string[] = [];
  const client = annotations['signalbox.dev/backend-tls-client-certificate']?.trim();
  if (client !== undefined && client !== '') secrets.push(`${namespace}/${client}`);
  const ca = annotations['signalbox.dev/backend-tls-ca']?.trim();
  if (ca !== undefined && ca !== '') {
    const parts = ca.split('/');
    if (parts.length === 1) secrets.push(`${namespace}/${parts[0]}`);
    else if (parts[0]!.toLowerCase() === 'secret') secrets.push(`${namespace}/${parts[1]}`);
    else if (parts[0]!.toLowerCase() === 'configmap') configMaps.push(`${namespace}/${parts[1]}`);
  }
  return { secrets, configMaps };
}
