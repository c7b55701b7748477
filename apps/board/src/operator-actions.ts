import type { BoardHooks, HookContext } from '@bull-board/api/typings/app';
import { queueName, SOURCES } from '@recomart/jobs';
import type { Logger } from '@recomart/logging';
import type { AuditEventInput } from '@recomart/queue';
import { operatorOf } from './operator-identity.js';

/**
 * Bull Board's API routes that change something, by method and route
 * pattern, and the action name the audit log records for each.
 */
export const OPERATOR_ACTIONS: Readonly<Record<string, string>> = {
  'put /api/queues/pause': 'pause-all',
  'put /api/queues/resume': 'resume-all',
  'post /api/queues/:queueName/add': 'add-job',
  'put /api/queues/:queueName/retry/:queueStatus': 'retry-all',
  'put /api/queues/:queueName/promote': 'promote-all',
  'put /api/queues/:queueName/clean/:queueStatus': 'clean-all',
  'put /api/queues/:queueName/pause': 'pause',
  'put /api/queues/:queueName/resume': 'resume',
  'put /api/queues/:queueName/concurrency': 'set-concurrency',
  'put /api/queues/:queueName/rate-limit': 'set-rate-limit',
  'put /api/queues/:queueName/rate-limit/release': 'release-rate-limit',
  'put /api/queues/:queueName/empty': 'empty',
  'put /api/queues/:queueName/obliterate': 'obliterate',
  'put /api/queues/:queueName/job-schedulers/:schedulerId/remove': 'remove-job-scheduler',
  'patch /api/queues/:queueName/job-schedulers/:schedulerId': 'update-job-scheduler',
  'put /api/queues/:queueName/job-schedulers/:schedulerId/run': 'run-job-scheduler',
  'put /api/queues/:queueName/:jobId/retry': 'retry',
  'put /api/queues/:queueName/:jobId/clean': 'remove',
  'put /api/queues/:queueName/:jobId/promote': 'promote',
  'patch /api/queues/:queueName/:jobId/update-data': 'update-data',
  'patch /api/queues/:queueName/:jobId/delay': 'change-delay',
  'patch /api/queues/:queueName/:jobId/priority': 'change-priority',
  'put /api/queues/:queueName/:jobId/remove-unprocessed-children': 'remove-unprocessed-children',
  'post /api/metrics/history/purge': 'purge-metrics-history',
};

/** Request bodies larger than this (as JSON) are recorded as `{ truncated: true }`. */
const MAX_DETAILS_CHARS = 2000;

/** The action name of a mutating route; routes not in the table are named by method and pattern. */
export function actionOf(method: string, route: string): string {
  return OPERATOR_ACTIONS[`${method} ${route}`] ?? `${method} ${route}`;
}

/** `clickstream__2026-11-20[__r…]` → `2026-11-20`. */
function dateOfJobId(jobId: string): string | undefined {
  return /^[a-z]+__(\d{4}-\d{2}-\d{2})(?:__|$)/.exec(jobId)?.[1];
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The audit event of one successful operator action. */
export function operatorActionEvent(context: HookContext, operator: string): AuditEventInput {
  const params = context.request.params as Record<string, unknown>;
  const queue = text(params.queueName);
  const jobId = text(params.jobId);
  const source = SOURCES.find((s) => queue === queueName(s));
  const date = jobId ? dateOfJobId(jobId) : undefined;
  const event: AuditEventInput = { type: 'operator-action', operator, action: actionOf(context.method, context.route) };
  if (queue) event.queue = queue;
  if (jobId) event.jobId = jobId;
  if (source) event.source = source;
  if (date) event.date = date;
  const status = text(params.queueStatus);
  if (status) event.status = status;
  const schedulerId = text(params.schedulerId);
  if (schedulerId) event.schedulerId = schedulerId;
  const body: unknown = context.request.body;
  if (body && typeof body === 'object' && Object.keys(body).length > 0) {
    event.details = JSON.stringify(body).length <= MAX_DETAILS_CHARS ? body : { truncated: true };
  }
  return event;
}

/** Where operator actions are recorded (an `AuditEmitter` stamping the request's arrival time). */
export type RecordOperatorAction = (event: AuditEventInput, at: Date) => Promise<unknown>;

/**
 * Bull Board handler hooks that write every successful mutating call (retry,
 * retry all, clean, promote, remove, pause, resume, edit…) to the audit
 * stream as `operator-action` with the basic-auth user. The event is written
 * after the handler succeeded and before the operator sees the answer, and
 * carries the time the request arrived, so it sorts before whatever the
 * action set off (a retried job's next attempt).
 */
export function operatorActionHooks(record: RecordOperatorAction, logger: Logger): BoardHooks {
  return {
    after: async (context, result) => {
      if (context.method === 'get') return result;
      const status = result.status ?? 200;
      if (status < 200 || status >= 300) return result;
      const identity = operatorOf(context.request.headers) ?? { operator: 'unknown', receivedAt: new Date() };
      const event = operatorActionEvent(context, identity.operator);
      try {
        await record(event, identity.receivedAt);
        logger.info({ ...event, event: 'operator-action' }, `operator ${identity.operator} ran ${String(event.action)}`);
      } catch (err) {
        logger.error({ ...event, event: 'operator-action-unrecorded', err: (err as Error).message }, 'operator action done but not written to the audit stream');
      }
      return result;
    },
  };
}
