import { describe, expect, it } from 'vitest';
import { FaultSpecError, parseFaultRules, parseFaultSpec } from '@recomart/mock-product-api';
import { FaultPlan } from '../src/faults.js';

const noHeaders = { fault: undefined, times: undefined, retryAfter: undefined };

describe('fault specs', () => {
  it('parses KIND[:RETRY_AFTER][@PAGE][xTIMES]', () => {
    expect(parseFaultSpec('503@3x2')).toEqual({ fault: '503', page: 3, times: 2 });
    expect(parseFaultSpec('429:5x1')).toEqual({ fault: '429', retryAfter: '5', times: 1 });
    expect(parseFaultSpec('truncate@2')).toEqual({ fault: 'truncate', page: 2 });
    expect(parseFaultSpec('repeat-cursor')).toEqual({ fault: 'repeat' });
  });

  it('refuses bad specs and rules with a message naming the value', () => {
    expect(() => parseFaultSpec('boom')).toThrow(new FaultSpecError('fault must be a status from 400 to 599 or one of reset, truncate, html, deep-json, repeat, wrong-types, stall, short-page, got "boom"'));
    expect(() => parseFaultSpec('503@x')).toThrow('--fault must look like KIND[:RETRY_AFTER][@PAGE][xTIMES] (e.g. 503@3x2), got "503@x"');
    expect(() => parseFaultSpec('200')).toThrow('got "200"');
    expect(() => parseFaultRules({ fault: '503' })).toThrow('the fault plan must be an array of rules, got {"fault":"503"}');
    expect(() => parseFaultRules([{ fault: '503', times: 0 }])).toThrow('times must be a whole number of at least 1, got 0');
    expect(() => parseFaultRules([{ fault: '429', retryAfter: 'soon' }])).toThrow('retryAfter must be whole seconds or an HTTP date, got "soon"');
    expect(() => parseFaultRules([{ fault: '503', pages: 2 }])).toThrow('unknown fault rule field "pages"');
  });
});

describe('FaultPlan', () => {
  it('fails the first N requests to a page, then lets it through', () => {
    const plan = new FaultPlan([{ fault: '503', page: 2, times: 2 }]);
    expect(plan.take(1, noHeaders)).toBeUndefined();
    expect(plan.take(2, noHeaders)?.fault).toBe('503');
    expect(plan.take(2, noHeaders)?.fault).toBe('503');
    expect(plan.take(2, noHeaders)).toBeUndefined();
    expect(plan.describe()[0]?.used).toBe(2);
  });

  it('applies a rule without page or times to every request', () => {
    const plan = new FaultPlan([{ fault: 'reset' }]);
    for (const page of [1, 2, 3, 3]) expect(plan.take(page, noHeaders)?.fault).toBe('reset');
  });

  it('counts header-scripted faults per page, and set() resets every counter', () => {
    const plan = new FaultPlan();
    const headers = { fault: '502', times: '1', retryAfter: undefined };
    expect(plan.take(4, headers)?.fault).toBe('502');
    expect(plan.take(4, headers)).toBeUndefined();
    expect(plan.take(5, headers)?.fault).toBe('502');
    plan.set([]);
    expect(plan.take(4, headers)?.fault).toBe('502');
  });
});
