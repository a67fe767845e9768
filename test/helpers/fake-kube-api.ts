/**
 * A small fake Kubernetes API server on a real loopback socket, for the API source's tests: the
 * handler answers every request, and the KubeApi returned talks to it as the controller would.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeApi } from '../../src/k8s/kube-api.ts';

export interface FakeKubeApi {
  readonly api: KubeApi;
  readonly port: number;
  close(): Promise<void>;
}

/** Starts the server and a KubeApi on it (plain HTTP, no credentials). */
export async function startFakeKubeApi(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<FakeKubeApi> {
  const server = createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'fake', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'nobody' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'nobody' }],
    currentContext: 'fake',
  });
  const api = new KubeApi(config);
  return {
    api,
    port,
    close: async () => {
      await api.close();
      server.closeAllConnections();
      server.close();
    },
  };
}
