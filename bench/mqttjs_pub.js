// mqttjs_pub: the MQTT.js publisher of bench/run.py. One Node process, N
// clients, each publishing M messages to bench/<client> as fast as MQTT.js
// allows: QoS 0 keeps writing while the socket accepts (a publish whose
// callback is deferred to 'drain' pauses that client), QoS 1 keeps up to
// --inflight messages awaiting PUBACK per client.
//
//   node mqttjs_pub.js --port P [--host H] [--conns N] [--messages M]
//                      [--qos Q] [--size BYTES] [--inflight W] [--timeout-s S]
//
// Prints: mqttjs_pub sent=... acked=... errors=... elapsed_s=...
'use strict';
const mqtt = require('mqtt');

const opts = { host: '127.0.0.1', port: 1883, conns: 10, messages: 10000, qos: 0, size: 32, inflight: 20, 'timeout-s': 300 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const key = argv[i].replace(/^--/, '');
  if (!(key in opts) || i + 1 >= argv.length) {
    console.error(`mqttjs_pub: bad flag ${argv[i]}`);
    process.exit(2);
  }
  opts[key] = key === 'host' ? argv[i + 1] : Number(argv[i + 1]);
}

const payload = Buffer.alloc(opts.size);
for (let i = 0; i < opts.size; i++) payload[i] = 0x30 + (i % 10);
const kBurst = 64;  // messages per client before yielding to the event loop

let errors = 0;
let finished = 0;
let start = 0;
const clients = [];

function finishOne() {
  finished++;
  if (finished === clients.length) allDone(0);
}

function allDone(code) {
  const elapsed = (process.hrtime.bigint() - start) / 1000000n;
  let sent = 0;
  let acked = 0;
  for (const c of clients) { sent += c.sent; acked += c.acked; }
  let open = clients.length;
  for (const c of clients) c.client.end(false, {}, () => { if (--open === 0) report(); });
  const timer = setTimeout(report, 5000);
  function report() {
    clearTimeout(timer);
    console.log(`mqttjs_pub sent=${sent} acked=${acked} errors=${errors} elapsed_s=${(Number(elapsed) / 1000).toFixed(3)}`);
    process.exit(code || (acked === opts.conns * opts.messages ? 0 : 1));
  }
}

function pumpQos0(c) {
  for (let burst = 0; burst < kBurst && c.sent < opts.messages; burst++) {
    let written = false;
    let inCall = true;
    c.sent++;
    c.client.publish(c.topic, payload, { qos: 0 }, (err) => {
      if (err) errors++;
      c.acked++;
      written = true;
      if (c.acked === opts.messages) finishOne();
      else if (!inCall) pumpQos0(c);  // resumed after 'drain'
    });
    inCall = false;
    if (!written) return;  // the socket is full: the callback resumes us
  }
  if (c.sent < opts.messages) setImmediate(pumpQos0, c);
}

function pumpQos1(c) {
  while (c.sent < opts.messages && c.sent - c.acked < opts.inflight) {
    c.sent++;
    c.client.publish(c.topic, payload, { qos: 1 }, (err) => {
      if (err) errors++;
      c.acked++;
      if (c.acked === opts.messages) finishOne();
      else pumpQos1(c);
    });
  }
}

let connected = 0;
for (let i = 0; i < opts.conns; i++) {
  const client = mqtt.connect({
    host: opts.host,
    port: opts.port,
    protocol: 'mqtt',
    clientId: `mqttjs_pub-${process.pid}-${i}`,
    clean: true,
    keepalive: 60,
    reconnectPeriod: 0,
    connectTimeout: 30000,
  });
  const c = { client, topic: `bench/${i}`, sent: 0, acked: 0 };
  clients.push(c);
  client.on('error', (err) => { console.error(`mqttjs_pub: client ${i}: ${err.message}`); errors++; });
  client.once('connect', () => {
    connected++;
    if (connected === opts.conns) {
      start = process.hrtime.bigint();
      for (const cc of clients) (opts.qos === 0 ? pumpQos0 : pumpQos1)(cc);
      if (opts.messages === 0) allDone(0);
    }
  });
}
setTimeout(() => { console.error('mqttjs_pub: timed out'); allDone(1); }, opts['timeout-s'] * 1000).unref();
