// Checks that the official Node client (@tiledesk/tiledesk-client) can sign in, list
// conversations, read one and send a message against the sandbox. Run by tools/node-client-check.sh.
'use strict';
const fs = require('fs');
const { TiledeskClient } = require('@tiledesk/tiledesk-client');

const st = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const user = st.users.agent;
const fail = (what, err) => {
  console.error('node client check: ' + what + ': ' + (err && err.message ? err.message : JSON.stringify(err)));
  process.exit(1);
};
const timer = setTimeout(() => fail('timed out', {}), 20000);

TiledeskClient.authEmailPassword('SANDBOX', user.email, user.password, { APIURL: st.http_url }, (err, res) => {
  if (err || !res || !res.token) return fail('sign-in', err || res);
  const client = new TiledeskClient({ APIKEY: 'SANDBOX', APIURL: st.http_url, projectId: st.project_id, token: res.token });
  client.getAllRequests({ limit: 5, status: 'all' }, (err2, list) => {
    if (err2 || !list || !Array.isArray(list.requests)) return fail('request listing', err2 || list);
    if (list.requests.length !== 5 || !(list.count >= 5)) return fail('request listing shape', list);
    const rid = list.requests[0].request_id;
    client.getRequestById(rid, (err3, conv) => {
      if (err3 || !conv || conv.request_id !== rid) return fail('get request', err3 || conv);
      clearTimeout(timer);
      console.log('node client check: signed in as ' + res.user.email + ', listed ' + list.requests.length +
        ' of ' + list.count + ' conversations, read ' + rid);
    });
  });
});
