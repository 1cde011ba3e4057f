// Row c of ./dev bench: the official Node client lists conversations, as bench.lua does with
// requests:list{ limit = 5, status = "all" }, one listing after the other.
// usage:
//   node node_list.js STATE_JSON BASE_URL N
//     a fresh process's first N listings (V8 still compiling): prints "N SECONDS"
//   node node_list.js STATE_JSON BASE_URL --warm FIFO
//     lists in chunks of 500 until V8 has done its work (three chunks in a row none 3% faster
//     than the best before them; at least 6 chunks, at most 24), prints "warm K MS1 MS2 ..." (K listings,
//     then ms a listing per chunk); then for each line "N" read from FIFO lists N times and prints
//     "N SECONDS"; the line "quit" ends it.
'use strict';
const fs = require('fs');
const readline = require('readline');
const { TiledeskClient } = require('@tiledesk/tiledesk-client');

const st = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const base = process.argv[3];
const warm = process.argv[4] === '--warm';
const fifo = warm ? process.argv[5] : null;
const n = warm ? 0 : parseInt(process.argv[4], 10);
const user = st.users.owner;
const CHUNK = 500, MIN_CHUNKS = 6, MAX_CHUNKS = 24, FLAT = 3;
const fail = (what) => { console.error('node_list: ' + what); process.exit(1); };
const timer = setTimeout(() => fail('timed out'), warm ? 600000 : 120000);

// lists k times in a row, then calls done(seconds)
const run = (client, k, done) => {
  let left = k;
  const t0 = process.hrtime.bigint();
  const next = () => {
    client.getAllRequests({ limit: 5, status: 'all' }, (e, list) => {
      if (e || !list || !Array.isArray(list.requests)) fail('listing failed');
      left -= 1;
      if (left > 0) return next();
      done(Number(process.hrtime.bigint() - t0) / 1e9);
    });
  };
  next();
};

const serve = (client) => {
  const per = [];
  const chunk = () => run(client, CHUNK, (secs) => {
    per.push(secs * 1000 / CHUNK);
    const k = per.length;
    // still getting faster: one of the last FLAT chunks beat the best before them by 3%
    const faster = k <= FLAT || Math.min(...per.slice(k - FLAT)) < 0.97 * Math.min(...per.slice(0, k - FLAT));
    if (k < MAX_CHUNKS && (k < MIN_CHUNKS || faster)) return chunk();
    console.log('warm ' + per.length * CHUNK + ' ' + per.map((x) => x.toFixed(3)).join(' '));
    const rl = readline.createInterface({ input: fs.createReadStream(fifo) });
    const queue = [];
    let busy = false;
    const take = () => {
      if (busy || queue.length === 0) return;
      const line = queue.shift().trim();
      if (line === 'quit') { clearTimeout(timer); process.exit(0); }
      const k = parseInt(line, 10);
      if (!(k > 0)) fail('bad command: ' + line);
      busy = true;
      run(client, k, (s) => { console.log(k + ' ' + s.toFixed(6)); busy = false; take(); });
    };
    rl.on('line', (line) => { queue.push(line); take(); });
  });
  chunk();
};

TiledeskClient.authEmailPassword('SANDBOX', user.email, user.password, { APIURL: base }, (err, res) => {
  if (err || !res || !res.token) fail('sign-in failed');
  const client = new TiledeskClient({ APIKEY: 'SANDBOX', APIURL: base, projectId: st.project_id, token: res.token });
  if (warm) return serve(client);
  run(client, n, (secs) => {
    clearTimeout(timer);
    console.log(n + ' ' + secs.toFixed(6));
  });
});
