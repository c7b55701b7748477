import { appRoutes } from '@bull-board/api/dist/routes.js';
import { describe, expect, it } from 'vitest';
import { OPERATOR_ACTIONS } from '../src/operator-actions.js';

describe('operator actions', () => {
  it('names every Bull Board API route that changes something (so none reaches the audit log unnamed)', () => {
    const mutating = appRoutes.api
      .flatMap((r) => (Array.isArray(r.method) ? r.method : [r.method]).flatMap((m) => (Array.isArray(r.route) ? r.route : [r.route]).map((p) => `${m} ${p}`)))
      .filter((key) => !key.startsWith('get '));
    expect(mutating.length).toBeGreaterThan(20);
    expect(mutating.filter((key) => OPERATOR_ACTIONS[key] === undefined)).toEqual([]);
  });
});
