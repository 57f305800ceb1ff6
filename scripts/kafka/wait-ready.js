#!/usr/bin/env node
'use strict';
/**
 * Exits 0 once the broker at <host:port> really serves Kafka requests through kafkajs (the client
 * the project uses), 1 after <timeoutSeconds>. An open TCP port is not enough: a KRaft broker
 * accepts connections before it has registered with its controller, and the first consumer group
 * would otherwise pay for creating __consumer_offsets in the middle of a test.
 *
 * Usage: node scripts/kafka/wait-ready.js 127.0.0.1:9092 [timeoutSeconds=90] [brokerPid]
 * With brokerPid, gives up as soon as that process is gone instead of waiting out the timeout.
 */
const { readFileSync } = require('node:fs');
const { Kafka, logLevel } = require('kafkajs');

const [broker = '127.0.0.1:9092', timeoutArg = '90', pidArg] = process.argv.slice(2);
const deadline = Date.now() + Number(timeoutArg) * 1000;

async function probe() {
  const kafka = new Kafka({
    clientId: 'consent-ledger-wait-ready',
    brokers: [broker],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 5000,
    // Retrying is this script's job (until the deadline), not kafkajs's.
    retry: { retries: 0 },
  });
  const admin = kafka.admin({ retry: { retries: 5, initialRetryTime: 200 } });
  await admin.connect();
  try {
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length === 0 || cluster.controller === null) {
      throw new Error(`cluster ${cluster.clusterId} has no registered broker/controller yet`);
    }
    await admin.listTopics();
    // FindCoordinator creates __consumer_offsets on first use; doing it here makes groups usable at once.
    await admin.describeGroups(['consent-ledger-wait-ready']);
    return cluster;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A broker that died while `start` (its parent) is still waiting here is a zombie, which
  // kill(0) still reports as alive.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

(async () => {
  let lastError;
  while (Date.now() < deadline) {
    try {
      const cluster = await probe();
      process.stdout.write(`kafka ready at ${broker} (cluster ${cluster.clusterId}, controller ${cluster.controller})\n`);
      process.exit(0);
    } catch (error) {
      lastError = error;
      if (pidArg && !isAlive(Number(pidArg))) {
        process.stderr.write(`kafka broker process ${pidArg} exited before it was ready\n`);
        process.exit(1);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  process.stderr.write(`kafka at ${broker} not ready after ${timeoutArg}s: ${lastError && lastError.message}\n`);
  process.exit(1);
})();
