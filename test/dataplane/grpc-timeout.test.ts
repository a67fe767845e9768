/**
 * The `grpc-timeout` header as a deadline (gRPC over HTTP/2: at most 8 digits and a unit), and as
 * what a retried call is told is left of it: never more than the client has left.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deadlineMs, formatGrpcTimeout, grpcTimeoutMs } from '../../src/dataplane/lifecycle/grpc-deadline.ts';

const grpc = (timeout: string): Record<string, string> => ({ 'content-type': 'application/grpc', 'grpc-timeout': timeout });

describe('grpc-timeout', () => {
  it('reads every unit, rounding up to whole milliseconds', () => {
    assert.equal(grpcTimeoutMs(grpc('2H')), 7_200_000);
    assert.equal(grpcTimeoutMs(grpc('3M')), 180_000);
    assert.equal(grpcTimeoutMs(grpc('5S')), 5_000);
    assert.equal(grpcTimeoutMs(grpc('250m')), 250);
    assert.equal(grpcTimeoutMs(grpc('1500u')), 2);
    assert.equal(grpcTimeoutMs(grpc('1n')), 1);
  });

  it('ignores a value that is not one, and the header on a call that is not gRPC', () => {
    for (const bad of ['123456789m', '5', '5s', '-1S', ' 5S']) assert.equal(grpcTimeoutMs(grpc(bad)), 0, bad);
    assert.equal(grpcTimeoutMs({ 'content-type': 'text/plain', 'grpc-timeout': '5S' }), 0);
  });

  it("takes the shorter of the call's timeout and the route's", () => {
    assert.equal(deadlineMs(1_000, grpc('5S')), 1_000);
    assert.equal(deadlineMs(10_000, grpc('5S')), 5_000);
    assert.equal(deadlineMs(0, grpc('5S')), 5_000);
    assert.equal(deadlineMs(3_000, {}), 3_000);
  });

  it('writes what is left in milliseconds, rounded down, and in seconds past 8 digits', () => {
    assert.equal(formatGrpcTimeout(1_234.9), '1234m');
    assert.equal(formatGrpcTimeout(0.2), '1m');
    assert.equal(formatGrpcTimeout(99_999_999), '99999999m');
    assert.equal(formatGrpcTimeout(100_000_000), '100000S');
    for (const ms of [1, 999, 5_000, 99_999_999, 123_456_789]) assert.ok(grpcTimeoutMs(grpc(formatGrpcTimeout(ms + 0.5))) <= ms + 0.5, String(ms));
  });
});
