/** How a gRPC call's status counts for passive outlier detection (grpc-outcome.ts), Envoy's way. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { grpcHeadOutcome, grpcStatusFails, grpcTrailersFail } from '../../src/dataplane/upstream/grpc-outcome.ts';

describe('gRPC outcomes for outlier detection', () => {
  it('counts the statuses Envoy maps to a 5xx as failures, and no others', () => {
    const failing = Array.from({ length: 17 }, (_, code) => code).filter(grpcStatusFails);
    // UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS.
    assert.deepEqual(failing, [2, 4, 12, 13, 14, 15]);
    assert.equal(grpcStatusFails(42), true, 'a code outside gRPC\'s is a 500 to Envoy');
  });

  it('decides at a Trailers-Only head or a non-200 one, and waits for the trailers otherwise', () => {
    assert.equal(grpcHeadOutcome(200, { 'grpc-status': '14' }), true);
    assert.equal(grpcHeadOutcome(200, { 'grpc-status': '5' }), false, 'NOT_FOUND blames the caller');
    assert.equal(grpcHeadOutcome(503, {}), true);
    assert.equal(grpcHeadOutcome(404, {}), false);
    assert.equal(grpcHeadOutcome(200, { 'content-type': 'application/grpc' }), null);
  });

  it('judges a streamed call by the grpc-status of its trailers; none at all is a failure', () => {
    assert.equal(grpcTrailersFail({ 'grpc-status': '0' }), false);
    assert.equal(grpcTrailersFail({ 'grpc-status': '3' }), false, 'INVALID_ARGUMENT');
    assert.equal(grpcTrailersFail({ 'grpc-status': '13' }), true, 'INTERNAL');
    assert.equal(grpcTrailersFail({}), true);
  });
});
