// An app written for Redis, run unchanged against setd through ioredis and
// node-redis. Usage: node node_check.js <port> [--tls <ca> <cert> <key>]: with
// --tls every connection is TLS, checking the server against the CA and
// showing the client certificate. Exit 77 = libraries missing.
'use strict';
let Redis, createClient;
try {
  Redis = require('ioredis');
  ({ createClient } = require('redis'));
} catch (e) {
  console.log('ioredis/node-redis not installed: skipped');
  process.exit(77);
}
const fs = require('fs');
const port = Number(process.argv[2]);
// How every connection of this check is made, for each library.
// Credentials (username, password) belong here too once setd has them.
let tls = null;
if (process.argv[3] === '--tls') {
  const [ca, cert, key] = process.argv.slice(4, 7).map((f) => fs.readFileSync(f));
  tls = { ca, cert, key, servername: 'localhost' };
}
const ioredisOptions = (more = {}) => ({ port, ...(tls ? { tls } : {}), ...more });
const nodeRedisOptions = () => ({ socket: { port, ...(tls ? { tls: true, ...tls } : {}) } });
const assert = (cond, what) => { if (!cond) { console.log('FAILED:', what); process.exit(1); } };

async function ioredisChecks() {
  const r = new Redis(ioredisOptions({ lazyConnect: true }));
  await r.connect();
  await r.flushall();
  assert(await r.ping() === 'PONG', 'ioredis ping');
  await r.set('app:k', 'v', 'EX', 100);
  assert(await r.get('app:k') === 'v', 'ioredis get');
  await r.sadd('app:s', 'a', 'b', 'c');
  assert((await r.smembers('app:s')).sort().join() === 'a,b,c', 'ioredis smembers');
  const res = await r.multi().sadd('app:t', 1, 2).scard('app:t').exec();
  assert(res[0][1] === 2 && res[1][1] === 2, 'ioredis multi');
  const piped = await r.pipeline().sismember('app:s', 'a').srem('app:s', 'a').exec();
  assert(piped[0][1] === 1 && piped[1][1] === 1, 'ioredis pipeline');
  const keys = [];
  await new Promise((resolve) => {
    r.scanStream({ match: 'app:*', count: 5 }).on('data', (k) => keys.push(...k)).on('end', resolve);
  });
  assert(new Set(keys).size === 3, `ioredis scanStream ${keys}`);
  const sub = new Redis(ioredisOptions());
  const got = new Promise((resolve) => sub.on('pmessage', (p, ch, msg) => resolve([ch, msg])));
  await sub.psubscribe('set.*');
  await r.sadd('evt', 'x');
  const [ch, msg] = await got;
  assert(ch === 'set.added' && JSON.parse(msg).key === 'evt', 'ioredis set event');
  sub.disconnect();
  r.disconnect();
}

async function nodeRedisChecks() {
  const c = createClient(nodeRedisOptions());
  await c.connect();
  await c.flushAll();
  assert(await c.ping() === 'PONG', 'node-redis ping');
  await c.sAdd('nr:s', ['1', '2', '3']);
  assert((await c.sMembers('nr:s')).sort().join() === '1,2,3', 'node-redis smembers');
  assert(await c.sCard('nr:s') === 3, 'node-redis scard');
  const [a, b] = await c.multi().sAdd('nr:t', 'x').sIsMember('nr:t', 'x').exec();
  assert(a === 1 && (b === true || b === 1), 'node-redis multi');
  await c.set('nr:k', 'v', { PX: 5000 });
  assert(await c.pTTL('nr:k') > 0, 'node-redis pttl');
  const seen = [];
  for await (const key of c.scanIterator({ MATCH: 'nr:*', COUNT: 2 })) seen.push(key);
  assert(new Set(seen.flat()).size === 3, `node-redis scanIterator ${seen}`);
  await c.quit();
}

// Rejects with a Redis error whose message starts with `prefix`.
async function failsWith(prefix, promise, what) {
  try {
    await promise;
  } catch (e) {
    assert(String(e.message).startsWith(prefix), `${what}: ${e.message}`);
    return;
  }
  assert(false, `${what}: no error`);
}

// ACL users: both libraries authenticate with a username and a password.
async function aclChecks() {
  const admin = new Redis(ioredisOptions());
  await admin.call('ACL', 'LOG', 'RESET');
  await admin.call('ACL', 'SETUSER', 'js', 'on', '>jspw', '~js:*', '&js.*', '+@set', '+get',
    '+ping', '+publish', '+acl|whoami');
  const io = new Redis(ioredisOptions({ username: 'js', password: 'jspw', lazyConnect: true }));
  await io.connect();
  assert(await io.call('ACL', 'WHOAMI') === 'js', 'ioredis whoami');
  assert(await io.sadd('js:s', 'a') === 1, 'ioredis allowed key');
  await failsWith('NOPERM this user has no permissions to access one of the keys',
    io.sadd('other', 'a'), 'ioredis denied key');
  await failsWith("NOPERM this user has no permissions to run the 'flushall' command",
    io.flushall(), 'ioredis denied command');
  await failsWith('NOPERM this user has no permissions to access one of the channels',
    io.publish('news', 'x'), 'ioredis denied channel');
  io.disconnect();

  const nr = createClient({ ...nodeRedisOptions(), username: 'js', password: 'jspw' });
  await nr.connect();
  assert(await nr.sendCommand(['ACL', 'WHOAMI']) === 'js', 'node-redis whoami');
  assert((await nr.sMembers('js:s')).join() === 'a', 'node-redis allowed key');
  await failsWith('NOPERM', nr.get('other'), 'node-redis denied key');
  await nr.quit();

  const bad = createClient({ socket: { ...nodeRedisOptions().socket, reconnectStrategy: false }, username: 'js',
    password: 'bad' });
  bad.on('error', () => {});
  await failsWith('WRONGPASS', bad.connect(), 'node-redis wrong password');

  // (ioredis's ready check runs INFO and node-redis sends CLIENT SETINFO:
  // denied too, and logged.)
  const log = await admin.call('ACL', 'LOG');
  const reasons = new Set(log.map((e) => e[3]));
  for (const r of ['key', 'command', 'channel', 'auth'])
    assert(reasons.has(r), `ACL LOG has a ${r} entry: ${JSON.stringify(log)}`);
  assert(log.some((e) => e[7] === 'flushall' && e[9] === 'js' && e[13].includes(' user=js ')),
    'ACL LOG flushall entry');
  assert(await admin.call('ACL', 'DELUSER', 'js') === 1, 'deluser');
  await admin.call('ACL', 'LOG', 'RESET');

  // requirepass: the default user's password.
  await admin.config('SET', 'requirepass', 'rp');
  const plain = createClient({ socket: { ...nodeRedisOptions().socket, reconnectStrategy: false } });
  plain.on('error', () => {});
  await plain.connect();
  await failsWith('NOAUTH', plain.ping(), 'node-redis NOAUTH');
  await plain.disconnect();
  const withPass = new Redis(ioredisOptions({ password: 'rp' }));
  assert(await withPass.ping() === 'PONG', 'ioredis password');
  await withPass.config('SET', 'requirepass', '');
  withPass.disconnect();
  admin.disconnect();
}

(async () => {
  await ioredisChecks();
  await nodeRedisChecks();
  await aclChecks();
  console.log('ioredis and node-redis checks passed');
  process.exit(0);
})().catch((e) => { console.log('FAILED:', e); process.exit(1); });
