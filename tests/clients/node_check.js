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

// The check-and-add script on sets (SISMEMBER, then SADD): 1 when it added.
const CHECK_AND_ADD = `
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 0 end
redis.call('SADD', KEYS[1], ARGV[1])
return 1`;

// Calls and failed calls of one command in INFO commandstats.
async function commandStats(io, name) {
  const info = await io.info('commandstats');
  const m = info.match(new RegExp(`^cmdstat_${name}:calls=(\\d+),.*failed_calls=(\\d+)`, 'm'));
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

// Lua scripts: ioredis's defineCommand (EVAL the first time on a connection,
// then EVALSHA, and EVAL again after NOSCRIPT) and node-redis's EVAL, EVALSHA
// and SCRIPT commands.
async function scriptChecks() {
  const r = new Redis(ioredisOptions());
  await r.flushall();
  await r.script('FLUSH');
  await r.config('RESETSTAT');
  r.defineCommand('checkAdd', { numberOfKeys: 1, lua: CHECK_AND_ADD });
  assert(await r.checkAdd('js:seen', 'a') === 1, 'ioredis checkAdd new member');
  assert(await r.checkAdd('js:seen', 'a') === 0, 'ioredis checkAdd member already there');
  assert(await r.checkAdd('js:seen', 'b') === 1, 'ioredis checkAdd second member');
  let [evals, evalFails] = await commandStats(r, 'eval');
  let [shas, shaFails] = await commandStats(r, 'evalsha');
  assert(evals === 1 && evalFails === 0 && shas === 2 && shaFails === 0,
    `ioredis EVAL then EVALSHA: eval ${evals}/${evalFails} evalsha ${shas}/${shaFails}`);
  assert(await r.script('FLUSH') === 'OK', 'ioredis script flush');
  assert(await r.checkAdd('js:seen', 'c') === 1, 'ioredis checkAdd after SCRIPT FLUSH');
  [evals, evalFails] = await commandStats(r, 'eval');
  [shas, shaFails] = await commandStats(r, 'evalsha');
  assert(evals === 2 && shas === 3 && shaFails === 1,
    `ioredis NOSCRIPT falls back to EVAL: eval ${evals} evalsha ${shas}/${shaFails}`);
  // In a pipeline and a MULTI, and an error raised by redis.call.
  const piped = await r.pipeline().checkAdd('js:seen', 'd').checkAdd('js:seen', 'd').scard('js:seen')
    .exec();
  assert(piped.map((x) => x[1]).join() === '1,0,4' && piped.every((x) => x[0] === null),
    `ioredis checkAdd pipeline ${JSON.stringify(piped)}`);
  const tx = await r.multi().checkAdd('js:seen', 'e').scard('js:seen').exec();
  assert(tx[0][1] === 1 && tx[1][1] === 5, `ioredis checkAdd in MULTI ${JSON.stringify(tx)}`);
  await r.set('js:str', 'x');
  await failsWith('WRONGTYPE', r.checkAdd('js:str', 'a'), 'ioredis checkAdd on a string');
  const nested = await r.eval("return {1, 'two', {3}, redis.call('SCARD', KEYS[1])}", 1, 'js:seen');
  assert(JSON.stringify(nested) === '[1,"two",[3],5]', `ioredis eval reply ${JSON.stringify(nested)}`);
  r.disconnect();

  const c = createClient(nodeRedisOptions());
  await c.connect();
  const sha = await c.scriptLoad(CHECK_AND_ADD);
  assert(/^[0-9a-f]{40}$/.test(sha), `node-redis scriptLoad ${sha}`);
  assert((await c.scriptExists(sha)).join() === 'true', 'node-redis scriptExists');
  assert(await c.evalSha(sha, { keys: ['nr:seen'], arguments: ['x'] }) === 1, 'node-redis evalSha');
  assert(await c.evalSha(sha, { keys: ['nr:seen'], arguments: ['x'] }) === 0,
    'node-redis evalSha member there');
  assert(await c.eval(CHECK_AND_ADD, { keys: ['nr:seen'], arguments: ['y'] }) === 1,
    'node-redis eval');
  assert((await c.sMembers('nr:seen')).sort().join() === 'x,y', 'node-redis script effects');
  assert(await c.eval('return ARGV[1] .. KEYS[1]', { keys: ['k'], arguments: ['a'] }) === 'ak',
    'node-redis eval KEYS/ARGV');
  assert(await c.evalRo("return redis.call('SCARD', KEYS[1])", { keys: ['nr:seen'] }) === 2,
    'node-redis EVAL_RO');
  await failsWith('ERR Write commands are not allowed from read-only scripts',
    c.evalRo("return redis.call('SADD', KEYS[1], 'z')", { keys: ['nr:seen'] }), 'node-redis EVAL_RO write');
  await c.scriptFlush();
  assert((await c.scriptExists(sha)).join() === 'false', 'node-redis scriptExists after flush');
  await failsWith('NOSCRIPT', c.evalSha(sha, { keys: ['nr:seen'], arguments: ['z'] }),
    'node-redis evalSha after SCRIPT FLUSH');
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

// Client-side caching in node-redis 5 (RESP3, clientSideCache): its cache
// must see invalidations from setd, for strings, sets and flushes.
async function clientSideCacheChecks() {
  const { createClient: createClient5, BasicClientSideCache } = require('redis5');
  const cache = new BasicClientSideCache({ ttl: 0, maxEntries: 0 });
  const opts = { ...nodeRedisOptions(), RESP: 3, maintNotifications: 'disabled' };
  const c = createClient5({ ...opts, clientSideCache: cache });
  const w = createClient5(opts);
  await c.connect();
  await w.connect();
  const invalidated = (want) => new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), 3000);
    const on = (key) => {
      if ((key === null && want === null) || (key !== null && String(key) === want)) {
        clearTimeout(timer);
        cache.off('invalidate', on);
        resolve(true);
      }
    };
    cache.on('invalidate', on);
  });
  await w.set('nr5:k', 'v1');
  await w.sAdd('nr5:s', ['a', 'b']);
  assert(await c.get('nr5:k') === 'v1', 'node-redis 5 get');
  assert(await c.get('nr5:k') === 'v1', 'node-redis 5 cached get');
  assert(cache.stats().hitCount >= 1, `cache hit ${JSON.stringify(cache.stats())}`);
  assert((await c.sMembers('nr5:s')).sort().join() === 'a,b', 'node-redis 5 smembers');
  assert(cache.size() === 2, `cache size ${cache.size()}`);
  let got = invalidated('nr5:k');
  await w.set('nr5:k', 'v2');
  assert(await got, 'invalidation of nr5:k');
  assert(await c.get('nr5:k') === 'v2', 'fresh value after invalidation');
  got = invalidated('nr5:s');
  await w.sAdd('nr5:s', 'c');
  assert(await got, 'invalidation of nr5:s');
  assert((await c.sMembers('nr5:s')).sort().join() === 'a,b,c', 'fresh members');
  const info = await c.sendCommand(['CLIENT', 'TRACKINGINFO']);
  assert(JSON.stringify(info).includes('"on"'), `trackinginfo ${JSON.stringify(info)}`);
  got = invalidated(null);
  await w.flushAll();
  assert(await got, 'flush invalidates everything');
  assert(cache.size() === 0, 'cache empty after flush');
  assert(await c.get('nr5:k') === null, 'flushed key');
  await c.quit();
  await w.quit();
}

(async () => {
  await ioredisChecks();
  await nodeRedisChecks();
  await scriptChecks();
  await aclChecks();
  await clientSideCacheChecks();
  console.log('ioredis and node-redis checks passed');
  process.exit(0);
})().catch((e) => { console.log('FAILED:', e); process.exit(1); });
