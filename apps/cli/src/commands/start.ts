import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { boolFlag, intFlag, parseFlags, stringFlag, type Command, type CommandIo } from '@recomart/command';
import { loadConfig, variables } from '@recomart/config';
import { scrubLine } from '@recomart/logging';
import { connectOrExplain, createProducerConnection, redisTarget, RedisUnreachableError, type RedisTarget } from '@recomart/queue';
import { onPath, startPrivateRedisServer, type StartedRedis } from './private-redis.js';
import { spawnPrefixed, stopAll, type StackProcess } from './stack-process.js';

/**
 * Node flags of the worker processes, as in the image: a 4 MB young generation
 * is collected sooner, so the read chunks of a big file that are already
 * garbage never pile up (a 1 GB day near 150 MB RSS instead of near 190).
 */
export const WORKER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];

/** `bin/recomart.js`, four folders up from `apps/cli/{src,dist}/commands/`. */
const BIN = fileURLToPath(new URL('../../../../bin/recomart.js', import.meta.url));

const HELP = `Usage: recomart start [--workers N] [--demo] [--no-board] [--no-mock-api]

The whole local stack in one terminal, each part its own process with a name
prefix on its lines: worker(s), scheduler (with catch-up), audit sink, board,
mock product API. Ctrl-C stops everything within 10 s.

If no Redis answers and REDIS_URL is not set, a private redis-server (AOF on,
noeviction, data in $DATA_DIR/redis, a free loopback port) is started and
stopped on exit.

Options:
  --workers N     worker processes (default 1)
  --demo          first write the last CATCH_UP_DAYS days of generated clickstream into
                  the landing zone (skips days that already have files), so catch-up ingests them
  --no-board      do not start the board
  --no-mock-api   do not start the mock product API (it starts only when PRODUCTS_API_URL is unset)`;

async function redisAnswers(target: RedisTarget): Promise<RedisUnreachableError | undefined> {
  const conn = createProducerConnection(target, 'recomart-start-probe');
  conn.on('error', () => undefined);
  try {
    await connectOrExplain(conn, target, 3000);
    return undefined;
  } catch (err) {
    if (err instanceof RedisUnreachableError) return err;
    throw err;
  } finally {
    conn.disconnect();
  }
}

async function untilAborted(signal: AbortSignal, processes: readonly StackProcess[]): Promise<StackProcess | undefined> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(undefined);
    signal.addEventListener('abort', () => resolve(undefined), { once: true });
    for (const p of processes) void p.exited.then(() => resolve(p));
  });
}

async function runStack(argv: readonly string[], io: CommandIo): Promise<number> {
  const f = parseFlags('start', argv, {
    workers: { type: 'string' },
    demo: { type: 'boolean' },
    'no-board': { type: 'boolean' },
    'no-mock-api': { type: 'boolean' },
  });
  const workers = intFlag('workers', stringFlag(f, 'workers'), 1, 32) ?? 1;
  const config = loadConfig(io.env);
  const say = (line: string) => io.stdout.write(`[start] ${line}\n`);

  let redis: StartedRedis | undefined;
  const env: NodeJS.ProcessEnv = { ...io.env };
  // The parts write to pipes, so on their own they would log JSON. On a terminal
  // (and LOG_FORMAT=auto) they write one human line an event instead, coloured
  // unless LOG_COLOR=never; piped or redirected, the stack logs JSON as before.
  const terminal = (io.stdout as NodeJS.WriteStream).isTTY === true;
  if (config.log.format === 'auto') env.LOG_FORMAT = terminal ? 'pretty' : 'json';
  if (config.log.color === 'auto') env.LOG_COLOR = terminal ? 'always' : 'never';
  // Ctrl-C must stop the stack within 10 s: unless SHUTDOWN_GRACE_MS was set,
  // workers get 8 s to finish active jobs (then abort them as retryable).
  env.SHUTDOWN_GRACE_MS ??= '8000';
  const stopGraceMs = Number(env.SHUTDOWN_GRACE_MS) + 1500;
  const unreachable = await redisAnswers(redisTarget(config));
  if (unreachable) {
    const binary = onPath('redis-server', io.env.PATH);
    // Sentinels name a Redis of their own: never replace it with a private one.
    if (config.redisUrlExplicit || config.redisSentinel || !binary) {
      io.stderr.write(`recomart start: ${unreachable.message}\n`);
      return 1;
    }
    redis = await startPrivateRedisServer(binary, path.join(config.dataDir, 'redis'));
    env.REDIS_URL = redis.url;
    say(`no Redis at ${config.redisUrl}: started a private redis-server at ${redis.url} (AOF on, noeviction, data in ${path.join(config.dataDir, 'redis')})`);
  }

  const node = process.execPath;
  const processes: StackProcess[] = [];
  const names = ['mock-api', 'audit', 'scheduler', 'board', ...Array.from({ length: workers }, (_, i) => `worker-${i + 1}`)];
  const width = Math.max(...names.map((n) => n.length));
  const launch = (name: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}, nodeFlags: readonly string[] = []) => {
    processes.push(spawnPrefixed(name, node, [...nodeFlags, BIN, '--exit-with-parent', ...args], { ...env, ...extraEnv }, io.stdout, width));
  };

  try {
    if (boolFlag(f, 'demo')) {
      const { generateCommand } = await import('./generate.js');
      const today = Date.parse(new Date().toISOString().slice(0, 10));
      for (let i = config.schedule.catchUpDays; i >= 1; i--) {
        const day = new Date(today - i * 86_400_000).toISOString().slice(0, 10);
        if (existsSync(path.join(config.landingDir, 'clickstream', day))) continue;
        say(`--demo: generating clickstream for ${day} into ${config.landingDir}`);
        const code = await generateCommand.run(['--from', day, '--to', day, '--rows-per-day', '20000'], { ...io, env });
        if (code !== 0) return code;
      }
    }
    const mockApi = !boolFlag(f, 'no-mock-api') && io.env.PRODUCTS_API_URL === undefined;
    const status: string[] = [];
    if (mockApi) {
      const port = new URL(variables.PRODUCTS_API_URL.defaultValue ?? 'http://127.0.0.1:4010').port;
      launch('mock-api', ['mock-api', '--port', port]);
      status.push(`product API: ${config.products.apiUrl} (the bundled mock)`);
    } else {
      status.push(`product API: ${scrubLine(config.products.apiUrl)}`);
    }
    launch('audit', ['audit-sink']);
    launch('scheduler', ['schedule', '--serve', '--catch-up']);
    if (!boolFlag(f, 'no-board')) {
      const boardEnv: NodeJS.ProcessEnv = {};
      if (!config.board.user || !config.board.password) {
        boardEnv.BOARD_USER = 'admin';
        boardEnv.BOARD_PASSWORD = randomBytes(9).toString('base64url');
        status.unshift(`board: http://${config.board.host}:${config.board.port}/ user "admin", password "${boardEnv.BOARD_PASSWORD}" (this run only; set BOARD_USER and BOARD_PASSWORD to choose)`);
      } else {
        status.unshift(`board: http://${config.board.host}:${config.board.port}/ (user and password from BOARD_USER and BOARD_PASSWORD)`);
      }
      launch('board', ['board'], boardEnv);
    }
    for (let i = 1; i <= workers; i++) {
      launch(`worker-${i}`, ['worker', '--http-port', String(config.worker.httpPort === 0 ? 0 : config.worker.httpPort + i - 1)], {}, WORKER_NODE_FLAGS);
    }
    status.push(`lake: ${path.join(config.dataDir, 'raw')}   landing zone: ${config.landingDir}`);
    status.push(`Redis: ${scrubLine(env.REDIS_URL ?? config.redisUrl)} (queue prefix "${config.queuePrefix}")`);
    for (const line of status) say(line);
    say(`running ${processes.map((p) => p.name).join(', ')}; Ctrl-C stops everything`);

    const died = await untilAborted(io.signal, processes);
    if (died) say(`${died.name} exited (code ${died.child.exitCode ?? died.child.signalCode}); stopping the stack`);
    else say('stopping the stack');
    await stopAll(processes, stopGraceMs);
    return died ? 1 : 0;
  } finally {
    await stopAll(processes, stopGraceMs);
    if (redis) {
      await redis.stop();
      say('private redis-server stopped');
    }
  }
}

export const startCommand: Command = {
  name: 'start',
  summary: 'the whole local stack in one terminal (worker, scheduler, audit sink, board, mock API)',
  help: HELP,
  run: runStack,
};
