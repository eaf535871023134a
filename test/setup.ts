// Loaded into every test process (node --test --import ./test/setup.ts): makes the
// store verify each account's consistency when it is closed, and fails the test file
// when any connection handler counted an uncaught error (DESIGN.md, Testing).
import { uncaughtErrorCount } from '../src/metrics/index.ts';

process.env['MAILCOVE_VERIFY_ON_CLOSE'] = '1';

process.on('exit', () => {
  const n = uncaughtErrorCount();
  if (n !== 0) {
    process.stderr.write(`test harness: mailcove_uncaught_errors_total is ${n}, expected 0\n`);
    process.exitCode = 1;
  }
});
