// Starts what the browser tests talk to: an SMTP server that keeps every mail as a JSON file, and
// the Roundtable binary on a free port with a fresh database, mailing through that SMTP server.
// Both stop when the run ends. The addresses reach the tests through process.env.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

export default async function globalSetup() {
  const dir = mkdtempSync(join(tmpdir(), 'rt-e2e-'));
  const maildir = join(dir, 'mail');
  mkdirSync(maildir);
  let n = 0;
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, done) {
      simpleParser(stream)
        .then((m) => {
          const to = session.envelope.rcptTo.map((r) => r.address);
          const file = join(maildir, `${String(++n).padStart(5, '0')}.json`);
          writeFileSync(file, JSON.stringify({ to, subject: m.subject ?? '', text: m.text ?? '', html: typeof m.html === 'string' ? m.html : '' }));
          done();
        })
        .catch(done);
    },
  });
  const smtpPort = await freePort();
  await new Promise<void>((ok) => smtp.listen(smtpPort, '127.0.0.1', ok));

  const port = await freePort();
  // RT_PREVIEW=1 (while developing the app): the built app from `vite preview`, the API from the
  // binary behind its proxy; otherwise the binary serves both, as in production.
  const previewPort = process.env.RT_PREVIEW ? await freePort() : 0;
  const base = previewPort ? `http://127.0.0.1:${previewPort}` : `http://127.0.0.1:${port}`;
  const bin = resolve(process.env.ROUNDTABLE_BIN || '../target/debug/roundtable');
  const server = spawn(bin, [], {
    env: {
      ...process.env,
      ROUNDTABLE_BIND: `127.0.0.1:${port}`,
      ROUNDTABLE_BASE_URL: base,
      DATABASE_URL: process.env.ROUNDTABLE_E2E_DATABASE_URL || `sqlite://${join(dir, 'rt.db')}`,
      ROUNDTABLE_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      ROUNDTABLE_MAIL_SWEEP_SECONDS: '1',
      ROUNDTABLE_NOTIFY_POLL_SECONDS: '1',
      ROUNDTABLE_RATE_LIMIT_IP_PER_MINUTE: '100000',
      ROUNDTABLE_RATE_LIMIT_ACCOUNT_PER_HOUR: '100000',
      ROUNDTABLE_LOG: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  server.stdout!.on('data', (d) => (log += d));
  server.stderr!.on('data', (d) => (log += d));
  const deadline = Date.now() + 30_000;
  let last = '';
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (r.ok) break;
    } catch (e) {
      last = String((e as { cause?: unknown }).cause ?? e);
    }
    if (server.exitCode !== null || Date.now() > deadline)
      throw new Error(`the server did not start (exit ${server.exitCode}, ${last}):\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  let preview: ReturnType<typeof spawn> | null = null;
  if (previewPort) {
    preview = spawn('npx', ['vite', 'preview', '--port', String(previewPort), '--strictPort'], {
      env: { ...process.env, ROUNDTABLE_API: `http://127.0.0.1:${port}` },
      stdio: 'ignore',
    });
    for (let i = 0; i < 100; i++) {
      if (await fetch(`${base}/app/`).then((r) => r.ok, () => false)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  process.env.RT_BASE = base;
  process.env.RT_MAILDIR = maildir;
  return async () => {
    server.kill('SIGTERM');
    preview?.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    smtp.close();
    if (process.env.RT_KEEP) console.log(`kept ${dir}\n${log}`);
    else rmSync(dir, { recursive: true, force: true });
  };
}
