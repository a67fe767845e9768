/** Reading a running proxy's `/metrics` in tests. */
import { request } from 'undici';
import type { TestProxy } from './proxy.ts';

/** The whole Prometheus text of the proxy's admin endpoint. */
export async function metricsText(proxy: TestProxy): Promise<string> {
  return (await request(`${proxy.admin}/metrics`)).body.text();
}

/** The number captured by `pattern`'s first group in `/metrics`, or 0 when the series is absent. */
export async function metric(proxy: TestProxy, pattern: RegExp): Promise<number> {
  return Number(pattern.exec(await metricsText(proxy))?.[1] ?? 0);
}
