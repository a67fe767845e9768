/**
 * Whether the Gateway API is served, and which of its kinds: one discovery request for the group
 * version (`GET /apis/gateway.networking.k8s.io/v1`), which any authenticated client may make. The
 * CRDs are optional, so a 404 is an answer (none served), not an error.
 */
import { KubeApiError, type KubeApi } from './kube-api.ts';
import { GATEWAY_API_VERSION, GATEWAY_API_WATCHED } from './resources.ts';

/** How often the API source asks again while some Gateway API kind is not served. */
export const GATEWAY_API_DISCOVERY_MS = 30_000;

interface ApiResourceList {
  readonly resources?: readonly { readonly name?: string; readonly kind?: string }[];
}

/**
 * The kinds of {@link GATEWAY_API_WATCHED} the API server serves now (empty when the group is not
 * installed). Other failures (the server unreachable) throw: the caller keeps what it had.
 */
export async function servedGatewayApiKinds(api: KubeApi, signal?: AbortSignal): Promise<ReadonlySet<string>> {
  let list: ApiResourceList;
  try {
    list = await api.get<ApiResourceList>(`/apis/${GATEWAY_API_VERSION}`, undefined, signal);
  } catch (error) {
    if (error instanceof KubeApiError && error.status === 404) return new Set();
    throw error;
  }
  const plurals = new Set((list.resources ?? []).map((r) => r.name));
  return new Set(GATEWAY_API_WATCHED.filter((t) => plurals.has(t.plural)).map((t) => t.kind));
}
