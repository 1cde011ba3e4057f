// The reference side of the differential date check (tools/dates-check.sh): reads a JSON corpus
// of cases and answers, for each, what tiledesk-server computes with the moment and
// moment-timezone versions its package-lock.json pins. Written for this project from the
// server's behaviour, not copied:
//   "range"      utils/datesUtil.js createDateRangeQuery(start, end, timezone), as
//                routes/request.js calls it (timezone = req.query.timezone || 'Europe/Rome'):
//                each date tried against ten formats with moment.tz(text, format, zone) until
//                one is valid; without a time of day ("H:mm" nowhere) the start is startOf('day')
//                and the end the next day's startOf('day') ($lt), with one the instant itself
//                (end $lte); a thrown Error is the route's 500 with its message.
//   "activities" pubmodules/activities/routes/activity.js (the list): moment(text, 'DD/MM/YYYY')
//                in the server process's zone (run this with TZ=UTC), start startOf('day'),
//                end endOf('day'), end_date read only with start_date; an invalid date is an
//                Invalid Date (the route's 500).
// "Now" is the case's `now` (epoch ms), through moment's documented moment.now hook.
'use strict';
const fs = require('fs');
const moment = require('moment-timezone');

const FORMATS = [
  'DD/MM/YYYY HH:mm:ss', 'DD/MM/YYYY, HH:mm:ss', 'DD/MM/YYYY HH:mm', 'DD/MM/YYYY, HH:mm', 'DD/MM/YYYY',
  'YYYY/MM/DD HH:mm:ss', 'YYYY/MM/DD, HH:mm:ss', 'YYYY/MM/DD HH:mm', 'YYYY/MM/DD, HH:mm', 'YYYY/MM/DD',
];

function zoneError(zone) {
  return 'Invalid timezone: ' + zone + '. Please use a valid IANA timezone (e.g., "Europe/Rome", "America/New_York")';
}

function hasTime(text) {
  return /\d{1,2}:\d{2}/.test(text);
}

// one date of the range: the moment of the first format that reads it, or an Error
function readDate(text, zone) {
  if (!text || typeof text !== 'string') throw new Error('The date must be a string: ' + text);
  if (!zone || typeof zone !== 'string') throw new Error('The timezone must be a string: ' + zone);
  if (!moment.tz.zone(zone)) throw new Error(zoneError(zone));
  const trimmed = text.trim();
  for (const format of FORMATS) {
    const m = moment.tz(trimmed, format, zone);
    if (m.isValid()) return m.tz(zone);
  }
  throw new Error('Unable to parse the date: ' + text + ' with timezone: ' + zone);
}

function range(c) {
  // routes/request.js reads a date range only when start_date or end_date is given
  if (!c.start && !c.end) return { from: null, to: null, to_op: null };
  const zone = c.zone || 'Europe/Rome';
  if (!zone || typeof zone !== 'string') throw new Error('The timezone must be a string: ' + zone);
  if (!moment.tz.zone(zone)) throw new Error(zoneError(zone));
  const out = { from: null, to: null, to_op: null };
  if (c.start) {
    const m = readDate(c.start, zone);
    out.from = (hasTime(c.start) ? m : m.startOf('day')).valueOf();
  }
  if (c.end) {
    const m = readDate(c.end, zone);
    out.to = (hasTime(c.end) ? m : m.clone().add(1, 'day').startOf('day')).valueOf();
    out.to_op = hasTime(c.end) ? '$lte' : '$lt';
  }
  return out;
}

function activities(c) {
  if (!c.start) return { from: null, to: null };
  const from = moment(c.start, 'DD/MM/YYYY').startOf('day').toDate().getTime();
  const to = c.end ? moment(c.end, 'DD/MM/YYYY').endOf('day').toDate().getTime() : null;
  if (Number.isNaN(from) || Number.isNaN(to)) return { invalid: true };
  return { from: from, to: to };
}

const cases = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const answers = cases.map((c) => {
  moment.now = () => c.now;
  try {
    return c.kind === 'activities' ? activities(c) : range(c);
  } catch (e) {
    return { error: e.message };
  }
});
process.stdout.write(JSON.stringify({
  moment: moment.version, moment_timezone: moment.tz.version, tzdata: moment.tz.dataVersion, answers: answers,
}));
