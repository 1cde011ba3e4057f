// Row c of ./dev bench: the official Node client lists conversations N times in a row, as
// bench.lua does with requests:list{ limit = 5, status = "all" }. Prints "N SECONDS".
// usage: node node_list.js STATE_JSON BASE_URL N
'use strict';
const fs = require('fs');
const { TiledeskClient } = require('@tiledesk/tiledesk-client');

const st = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const base = process.argv[3];
const n = parseInt(process.argv[4], 10);
const user = st.users.owner;
const timer = setTimeout(() => { console.error('node_list: timed out'); process.exit(1); }, 120000);

TiledeskClient.authEmailPassword('SANDBOX', user.email, user.password, { APIURL: base }, (err, res) => {
  if (err || !res || !res.token) { console.error('node_list: sign-in failed'); process.exit(1); }
  const client = new TiledeskClient({ APIKEY: 'SANDBOX', APIURL: base, projectId: st.project_id, token: res.token });
  let done = 0;
  const t0 = process.hrtime.bigint();
  const next = () => {
    client.getAllRequests({ limit: 5, status: 'all' }, (e, list) => {
      if (e || !list || !Array.isArray(list.requests)) { console.error('node_list: listing failed'); process.exit(1); }
      done += 1;
      if (done < n) return next();
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      clearTimeout(timer);
      console.log(n + ' ' + secs.toFixed(6));
    });
  };
  next();
});
