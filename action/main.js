// The action's main step: finds or builds fpshim, then either runs the `run` input under `fpshim run`
// (reports, summary, SARIF and gate come from that run) or sets LD_PRELOAD for the rest of the job
// through $GITHUB_ENV and leaves the reporting to the post step.
'use strict';

const fs = require('fs');
const path = require('path');
const lib = require('./lib');

function runMode(bin) {
  const report = path.resolve(lib.input('report', lib.defaultReport()));
  fs.mkdirSync(path.dirname(report), { recursive: true });
  const cwd = path.resolve(lib.input('working-directory', process.env.GITHUB_WORKSPACE || process.cwd()));
  const options = lib.reportOptions({ report, sourceRoot: lib.input('source-root') });
  const shell = lib.which('bash') ? ['bash', '-e', '-o', 'pipefail', '-c'] : ['sh', '-e', '-c'];
  lib.setOutput('report', report);
  if (lib.input('sarif')) lib.setOutput('sarif', path.resolve(lib.input('sarif')));
  const argv = ['run', ...options, '--', ...shell, lib.input('run')];
  const status = lib.run(bin, argv, { cwd, env: lib.withoutShim(process.env) });
  lib.setOutput('exit-code', status);
  if (status !== 0) {
    lib.annotate('error', `fpshim run exited with ${status}: the build's own status, or the gate's (see above)`);
    process.exitCode = status;
  }
}

function preloadMode(bin, library) {
  const spool = path.join(process.env.RUNNER_TEMP || require('os').tmpdir(), 'fpshim-spool');
  fs.mkdirSync(spool, { recursive: true, mode: 0o700 });
  lib.saveState('spool', spool);
  const existing = (process.env.LD_PRELOAD || '').split(/[: ]/).filter((e) => e && e !== library);
  lib.exportVariable('LD_PRELOAD', [library, ...existing].join(':'));
  lib.exportVariable('FPSHIM_LIB', library);
  lib.exportVariable('FPSHIM_SPOOL', spool);
  const report = path.resolve(lib.input('report', lib.defaultReport()));
  lib.saveState('report', report);
  lib.setOutput('report', report);
  if (lib.input('sarif')) lib.setOutput('sarif', path.resolve(lib.input('sarif')));
  console.log(`fpshim: later steps of this job run with LD_PRELOAD=${library}; the post step reports`);
  if (!lib.hasReportVerb(bin))
    lib.annotate('warning', `${bin} has no \`fpshim report\` verb (plain LD_PRELOAD mode), so the shim stays ` +
      'inactive in later steps and the post step cannot report. ' +
      'Use the `run` input to run the build under `fpshim run`.');
}

function main() {
  const { bin, library } = lib.installFpshim();
  const mode = lib.input('run') ? 'run' : 'preload';
  lib.saveState('mode', mode);
  lib.saveState('fpshim', bin);
  lib.saveState('library', library);
  lib.setOutput('fpshim', bin);
  lib.setOutput('library', library);
  lib.setOutput('mode', mode);
  if (mode === 'run') runMode(bin);
  else preloadMode(bin, library);
}

try {
  main();
} catch (e) {
  lib.annotate('error', e.message);
  process.exitCode = 1;
}
