// Checks that the official Node client (@tiledesk/tiledesk-client) works against the sandbox:
// it signs in, lists conversations, reads one, sends a message to it with sendSupportMessage
// and reads that message back from the conversation's messages. The client has no method to
// list messages, so the read-back goes through its own HTTP helper (TiledeskClient.myrequest)
// with the client's token. Run by tools/node-client-check.sh.
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
      const text = 'node client check ' + Date.now();
      client.sendSupportMessage(rid, { text: text, senderFullname: 'Node Check' }, (err4, sent) => {
        if (err4 || !sent || !sent._id) return fail('send message', err4 || sent);
        if (sent.text !== text || sent.recipient !== rid || sent.sender !== res.user._id) {
          return fail('sent message shape', sent);
        }
        TiledeskClient.myrequest({
          url: st.http_url + '/' + st.project_id + '/requests/' + rid + '/messages',
          method: 'GET',
          headers: { Authorization: client.jwt_token },
        }, (err5, messages) => {
          if (err5 || !Array.isArray(messages)) return fail('read messages', err5 || messages);
          const back = messages.find((m) => m._id === sent._id);
          if (!back || back.text !== text || back.senderFullname !== 'Node Check') {
            return fail('message read back', back || { missing: sent._id, got: messages.length });
          }
          clearTimeout(timer);
          console.log('node client check: signed in as ' + res.user.email + ', listed ' + list.requests.length +
            ' of ' + list.count + ' conversations, read ' + rid + ', sent message ' + sent._id + ' and read it back');
        });
      });
    });
  });
});
