import { startSyslogReceiver } from './receivers/index.ts';

/**
 * Starts a syslog receiver and never closes it: receivers.test.ts SIGKILLs this process and
 * checks that its rsyslogd does not outlive it.
 */
const receiver = await startSyslogReceiver();
process.stdout.write(`${JSON.stringify({ pid: receiver.pid, port: receiver.port })}\n`);
setInterval(() => {}, 60_000);
