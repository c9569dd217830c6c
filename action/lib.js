// What the action's main and post steps share: reading inputs and state, writing GitHub's command files,
// finding or building fpshim, and the options every report command gets from the inputs.
'use strict';

const childProcess = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');

const actionRoot = path.resolve(__dirname, '..');

// An input as the runner passes it: INPUT_<NAME> with spaces as '_', upper case (hyphens stay).
function input(name, fallback = '') {
  const value = process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`];
  return value === undefined || value.trim() === '' ? fallback : value.trim();
}

function state(name) {
  return process.env[`STATE_${name}`] || '';
}

// Appends NAME=VALUE to the command file $VARIABLE names (GITHUB_ENV, GITHUB_OUTPUT, GITHUB_STATE),
// with a random heredoc delimiter when the value spans lines, as the runner expects.
function appendCommandFile(variable, name, value) {
  const file = process.env[variable];
  if (!file) throw new Error(`${variable} is not set: is this running in GitHub Actions?`);
  value = String(value);
  let line = `${name}=${value}\n`;
  if (value.includes('\n') || value.includes('\r')) {
    const delimiter = `ghadelimiter_${crypto.randomUUID()}`;
    line = `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
  }
  fs.appendFileSync(file, line);
}

const setOutput = (name, value) => appendCommandFile('GITHUB_OUTPUT', name, value);
const saveState = (name, value) => appendCommandFile('GITHUB_STATE', name, value);
const exportVariable = (name, value) => appendCommandFile('GITHUB_ENV', name, value);

// A workflow command's data and properties escaped as the runner unescapes them.
function escapeData(text) {
  return String(text).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
function escapeProperty(text) {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}
function annotate(kind, message, title = 'fpshim') {
  process.stdout.write(`::${kind} title=${escapeProperty(title)}::${escapeData(message)}\n`);
}

function appendSummary(markdown) {
  if (process.env.GITHUB_STEP_SUMMARY) fs.appendFileSync(process.env.GITHUB_STEP_SUMMARY, markdown);
}

function which(program) {
  for (const dir of (process.env.PATH || '').split(':')) {
    const candidate = path.join(dir || '.', program);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return path.resolve(candidate);
    } catch {
      // not here
    }
  }
  return '';
}

// libfpshim.so for an fpshim executable, where fpshim itself looks for it (collector/cli/locate.cc).
function libraryFor(bin) {
  if (process.env.FPSHIM_LIB && fs.existsSync(process.env.FPSHIM_LIB)) return path.resolve(process.env.FPSHIM_LIB);
  const dir = path.dirname(fs.realpathSync(bin));
  const candidates = [
    path.join(dir, 'libfpshim.so'),
    path.join(dir, '..', 'lib', 'fpshim', 'libfpshim.so'),
    path.join(dir, '..', 'lib64', 'fpshim', 'libfpshim.so'),
    path.join(dir, '..', 'lib', 'x86_64-linux-gnu', 'fpshim', 'libfpshim.so'),
    path.join(dir, '..', 'lib', 'aarch64-linux-gnu', 'fpshim', 'libfpshim.so'),
  ];
  for (const candidate of candidates) if (fs.existsSync(candidate)) return fs.realpathSync(candidate);
  throw new Error(`no libfpshim.so next to ${bin} (looked at ${candidates.join(', ')})`);
}

// An argument as a shell would need it written, for the log.
function quote(arg) {
  return /^[A-Za-z0-9_\/.=:,+@%-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`;
}

function run(command, args, options = {}) {
  console.log(`[command]${[command, ...args].map(quote).join(' ')}`);
  const result = childProcess.spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.error) throw new Error(`cannot run ${command}: ${result.error.message}`);
  return result.status === null ? 128 + (os.constants.signals[result.signal] || 0) : result.status;
}

// fpshim built from this action's checkout with cmake (only the command and the shim library).
function buildFromSource() {
  const dir = path.join(process.env.RUNNER_TEMP || os.tmpdir(), 'fpshim-build');
  if (input('install-dependencies', 'true') === 'true') {
    const status = run('bash', ['-c', 'source "$1/tools/setup.sh" && install_missing_packages', 'setup', actionRoot]);
    if (status !== 0) throw new Error(`installing fpshim's build dependencies failed (exit ${status})`);
  }
  const jobs = input('build-jobs', String(os.availableParallelism ? os.availableParallelism() : os.cpus().length));
  let status = run('cmake', ['-S', actionRoot, '-B', dir, '-DBUILD_TESTING=OFF', '-DCMAKE_BUILD_TYPE=RelWithDebInfo']);
  if (status === 0) status = run('cmake', ['--build', dir, '-j', jobs, '--target', 'fpshim', 'fpshim_preload']);
  if (status !== 0) throw new Error(`building fpshim from ${actionRoot} failed (exit ${status})`);
  return path.join(dir, 'bin', 'fpshim');
}

// The fpshim to use and its library: the `fpshim` input, else fpshim on PATH, else one built here.
function installFpshim() {
  let bin = input('fpshim');
  let how = 'given as the fpshim input';
  if (bin && !fs.existsSync(bin)) bin = which(bin);
  if (!bin) {
    bin = which('fpshim');
    how = 'found on PATH';
  }
  if (!bin) {
    bin = buildFromSource();
    how = `built from ${actionRoot}`;
  }
  bin = path.resolve(bin);
  const library = libraryFor(bin);
  console.log(`fpshim: using ${bin} (${how}), ${library}`);
  return { bin, library };
}

// Whether this fpshim has the `report` verb (plain LD_PRELOAD mode: shim to a spool, report after).
function hasReportVerb(bin) {
  const help = childProcess.spawnSync(bin, ['--help'], { encoding: 'utf8', env: withoutShim(process.env) });
  return /fpshim report\b/.test(help.stdout || '');
}

// The environment without the shim preloaded, for fpshim itself and the tools the action runs.
function withoutShim(env) {
  const out = { ...env };
  const library = env.FPSHIM_LIB;
  if (out.LD_PRELOAD !== undefined) {
    const rest = out.LD_PRELOAD.split(/[: ]/).filter((e) => e && e !== library && !e.endsWith('/libfpshim.so'));
    if (rest.length) out.LD_PRELOAD = rest.join(':');
    else delete out.LD_PRELOAD;
  }
  return out;
}

function defaultReport() {
  return path.join(process.env.RUNNER_TEMP || os.tmpdir(), 'fpshim', 'report.json');
}

// The options the inputs ask for, for `fpshim run` and `fpshim report` alike.
function reportOptions({ report, sourceRoot }) {
  const options = ['--github', '--report', report];
  const sarif = input('sarif');
  if (sarif) options.push('--sarif', path.resolve(sarif));
  const failOn = input('fail-on', 'none');
  if (!['none', 'low', 'medium', 'high', 'critical'].includes(failOn))
    throw new Error(`fail-on must be none, low, medium, high or critical, not "${failOn}"`);
  if (failOn !== 'none') options.push('--fail-on', failOn);
  const suppress = input('suppress');
  if (suppress) options.push('--suppress', path.resolve(suppress));
  if (sourceRoot) options.push('--source-root', path.resolve(sourceRoot));
  return options;
}

module.exports = {
  actionRoot, input, state, setOutput, saveState, exportVariable, annotate, appendSummary, escapeData,
  escapeProperty, installFpshim, hasReportVerb, withoutShim, defaultReport, reportOptions, run, which,
};
