// Exit 0 when a Redis answers PING at REDIS_URL (or argv[2]); no dependencies, used by .ci/run.
import net from 'node:net';

const url = new URL(process.argv[2] ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const socket = net.connect({ host: url.hostname, port: Number(url.port || 6379) });
const timer = setTimeout(() => process.exit(1), 2000);
socket.on('connect', () => {
  if (url.password) socket.write(`AUTH ${decodeURIComponent(url.username || 'default')} ${decodeURIComponent(url.password)}\r\n`);
  socket.write('PING\r\n');
});
socket.on('data', (d) => {
  if (d.toString().includes('+PONG')) {
    clearTimeout(timer);
    socket.end();
    process.exit(0);
  }
});
socket.on('error', () => process.exit(1));
