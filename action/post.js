// The action's post step (post-if: always()): in preload mode it writes the report, the step summary
// and the SARIF from what the shim spooled during the job, with `fpshim report`, and applies the gate.
// In run mode the main step has done all of that already.
'use strict';

const fs = require('fs');
const lib = require('./lib');

function main() {
  const mode = lib.state('mode');
  if (!mode) {
    console.log('fpshim: the main step did not get as far as choosing a mode; nothing to report');
    return;
  }
  if (mode === 'run') {
    console.log('fpshim: the main step ran the build under `fpshim run` and reported; nothing left to do');
    return;
  }
  const bin = lib.state('fpshim');
  const spool = lib.state('spool');
  if (!lib.hasReportVerb(bin)) {
    const why = `${bin} has no \`fpshim report\` verb, which reports from the spool that the shim fills when it is ` +
      'preloaded with LD_PRELOAD alone; no report was written. Use the `run` input of the action instead.';
    lib.annotate('warning', why);
    lib.appendSummary(`## fpshim: nothing reported\n\n${why}\n`);
    return;
  }
  const report = lib.state('report') || lib.input('report', lib.defaultReport());
  fs.mkdirSync(require('path').dirname(report), { recursive: true });
  const sourceRoot = lib.input('source-root', process.env.GITHUB_WORKSPACE || process.cwd());
  const options = lib.reportOptions({ report, sourceRoot });
  const status = lib.run(bin, ['report', '--spool', spool, ...options], { env: lib.withoutShim(process.env) });
  if (status !== 0) {
    lib.annotate('error', `fpshim report exited with ${status} (the gate's status, or a report it could not write)`);
    process.exitCode = status;
  }
}

try {
  main();
} catch (e) {
  lib.annotate('error', e.message);
  process.exitCode = 1;
}
