#!/usr/bin/env node
/* Benchmarks onnxrun against onnxruntime on the models bench/export_models.py
 * wrote, and writes the report. bench/run.sh builds the tools and calls this.
 *
 *   node bench/bench.js --models DIR --driver BENCH_ONNXRUN --cli ONNXRUN
 *        --peak-rss PEAK_RSS --fma-peak GFLOPS [--read-gbs GB/S] [--read-curve "KIB:GBS,..."]
 *        [--caches "l2_kib N l3_kib N source S"] (bench/cache_sizes)
 *        --out DIR [--budget S] [--passes P] [--only a,b]
 *        [--precisions fp32,bf16,int8]
 *
 * For each model and thread count (1, 2) it starts bench_onnxrun (one process
 * per weight precision; bf16/int8 only with 1 thread and only when the CLI's
 * --help lists --precision) and an onnxruntime session in this process, runs
 * each engine twice to warm up, then alternates turns, engine after engine,
 * until the time budget is spent (at least MIN_RUNS timed runs each) and keeps
 * the median. A turn is a pause, untimed runs for WARM_MS (at least one), then
 * BLOCK timed runs in a row.
 * The whole model list is gone through P times (passes, default 3), each
 * model and thread count getting budget / P per pass, and every timed run of
 * every pass goes into one median: the machine's speed drifts over minutes,
 * and spreading each model's runs over the whole benchmark averages that
 * drift out of its ratio instead of handing it to whichever models ran while
 * the host was busy. Ratios are taken turn by turn (each engine's turn against
 * the onnxruntime turn next to it, report.js), which cancels what drift is
 * left. onnxrun's time is measured inside the driver around
 * onnxrun_run; onnxruntime's around `await session.run(feeds)`.
 * Outputs of the last run are compared (max abs difference). Peak RSS comes
 * from separate processes (the onnxrun CLI, and node running ort_once.js).
 */
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');
const { spawn, spawnSync } = require('child_process');
const { readNpy } = require('./npy');

const MIN_RUNS = 5;
const MIN_PAIRS = 2; /* pairs of rounds per pass when the cores swap (pinRound) */
const MAX_RUNS = 200;
const WARMUP = 2;
const ATOL = 1e-4; /* fp32 outputs vs onnxruntime */

function parseArgs(argv) {
    const a = { budget: 4, passes: 3, only: null, threads: [1, 2] };
    for (let i = 0; i < argv.length; i += 2) {
        const key = argv[i].replace(/^--/, '').replace(/-(.)/g, (_, c) => c.toUpperCase());
        a[key] = argv[i + 1];
    }
    a.budget = Number(a.budget);
    a.passes = Math.max(1, Math.floor(Number(a.passes)));
    a.fmaPeak = Number(a.fmaPeak);
    a.readGbs = a.readGbs === undefined ? null : Number(a.readGbs);
    if (typeof a.threads === 'string') a.threads = a.threads.split(',').map(Number);
    for (const k of ['models', 'driver', 'cli', 'peakRss', 'out'])
        if (!a[k]) throw new Error(`missing --${k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}`);
    return a;
}

/* Timed runs per turn of an engine. Alternating single runs measured each
 * engine next to the other's spinning worker threads (onnxruntime keeps its
 * pool spinning after a run): on 2 cores onnxrun at 2 threads then ran as
 * slowly as at 1 (10.5 ms vs 5.3 ms alone, LSTM hidden 1024), and a pause
 * long enough for the spinning to stop slowed both engines' next run. */
const BLOCK = 4;
/* Pause before each turn, so that the other engine's spinning workers have
 * wound down: after a run onnxruntime's pool keeps about one core busy
 * spinning, 20-25 ms on a Zen 5 and 70-80 ms on a Zen 1 VM (process.cpuUsage,
 * 2 threads). The pause is measured per model and thread count (spinDownMs),
 * at least SETTLE_MIN_MS; onnxrun's workers spin at most 2 ms. */
const SETTLE_MIN_MS = 40;
const SETTLE_MAX_MS = 400;
/* After the pause, untimed runs until this much time has passed (at least
 * one run). A core left idle through the pause comes back slowly on a VM: on
 * the Zen 3 VM, lstm_h128_b1 (0.40 ms a run back to back) took a median
 * 0.71 ms over the 4 runs after 100 ms asleep and one untimed run, 0.59 after
 * 10 untimed runs and 0.42-0.50 after 25-50 (10-20 ms); onnxruntime's runs
 * slowed by as much, 0.2-0.3 ms. The timed runs then measure both engines as
 * a program calling one in a loop sees them, and models of 20 ms or more a
 * run keep the single untimed run. */
const WARM_MS = 20;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* Milliseconds after a run of this process's engine until its CPU use drops
 * under a fifth of a core for two 10 ms windows in a row, plus a margin. */
async function spinDownMs(run) {
    await run();
    const start = performance.now();
    let quiet = 0, c = process.cpuUsage(), t = start;
    while (quiet < 2 && performance.now() - start < SETTLE_MAX_MS) {
        await sleep(10);
        const d = process.cpuUsage(c), now = performance.now();
        quiet = (d.user + d.system) / 1e3 < 0.2 * (now - t) ? quiet + 1 : 0;
        c = process.cpuUsage();
        t = now;
    }
    return Math.max(SETTLE_MIN_MS, performance.now() - start + 10);
}

function median(xs) {
    const s = [...xs].sort((x, y) => x - y);
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/* ---- core pinning for 1-thread runs ---- */

/* With one thread each, the engines run on cores of their own: this process
 * (onnxruntime) on one, the onnxrun driver on the other (pinRound). Unpinned,
 * each woke up on either core, often the one the other engine had just
 * filled: LSTM hidden 128 measured 1.31 ms (onnxrun) and 1.58 ms
 * (onnxruntime) unpinned, 0.90-1.09 and 1.31 pinned, in runs minutes apart
 * (this VM's speed drifts by 20-30%). 2-thread
 * runs use every core and are not pinned. Needs taskset (util-linux). */
const CORES = os.cpus().length;
const canPin = CORES >= 2 && spawnSync('taskset', ['-V']).status === 0;

function pinProcess(pid, cpus) {
    spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}

function pinSelf(threads) {
    if (!canPin) return false;
    pinProcess(process.pid, threads === 1 ? '0' : `0-${CORES - 1}`);
    return threads === 1;
}

/* The two pinned cores do not run at one speed: on the Zen 5 VM the same
 * onnxrun process ran lstm_h512_l2_b1 0.81-1.15x as fast on the last core
 * as on core 0, the ratio drifting over seconds (medians of 20 alternating
 * turns each, one minute). So every round swaps the cores (side 0: onnxruntime
 * on core 0, onnxrun on the last core; side 1 the other way), rounds come in
 * pairs, and report.js counts each pair with the geometric mean of its two
 * turn ratios, which cancels a speed difference between the cores that lasts
 * a round pair. */
function pinRound(engines, side) {
    const [ortCore, onnxrunCore] = side === 0 ? [0, CORES - 1] : [CORES - 1, 0];
    for (const e of engines) pinProcess(e.pid, String(e.name === 'ort' ? ortCore : onnxrunCore));
}

/* ---- the onnxrun driver, one line per command ---- */

class Driver {
    constructor(bin, threads, precision, model, inputs, pinned) {
        const args = ['--threads', String(threads), '--precision', precision, model, ...inputs];
        this.proc = pinned
            ? spawn('taskset', ['-c', String(CORES - 1), bin, ...args], { stdio: ['pipe', 'pipe', 'inherit'] })
            : spawn(bin, args, { stdio: ['pipe', 'pipe', 'inherit'] });
        this.lines = [];
        this.waiters = [];
        this.closed = false;
        readline.createInterface({ input: this.proc.stdout }).on('line', (l) => {
            if (this.waiters.length) this.waiters.shift()(l);
            else this.lines.push(l);
        });
        this.proc.on('close', () => {
            this.closed = true;
            for (const w of this.waiters.splice(0)) w(null);
        });
    }

    async line() {
        if (this.lines.length) return this.lines.shift();
        if (this.closed) return null;
        return new Promise((r) => this.waiters.push(r));
    }

    async expect(prefix) {
        const l = await this.line();
        if (l === null || !l.startsWith(prefix + ' ') && l !== prefix)
            throw new Error(`bench_onnxrun: ${l === null ? 'exited' : l}`);
        return l.slice(prefix.length + 1);
    }

    async run() {
        this.proc.stdin.write('run\n');
        const [wall, , cpu] = (await this.expect('ms')).split(' ');
        return { ms: Number(wall), cpu: Number(cpu) };
    }

    async dump(dir) {
        fs.mkdirSync(dir, { recursive: true });
        this.proc.stdin.write(`dump ${dir}\n`);
        await this.expect('ok');
    }

    quit() {
        this.proc.stdin.end('quit\n');
    }
}

/* ---- onnxruntime ---- */

let ort = null;

function ortOptions(threads) {
    return {
        executionProviders: ['cpu'],
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
    };
}

function ortFeeds(inputs) {
    const feeds = {};
    for (const [name, file] of inputs) {
        const t = readNpy(file);
        feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
    }
    return feeds;
}

function maxAbsDiff(a, b) {
    if (a.length !== b.length) return Infinity;
    let m = 0;
    for (let i = 0; i < a.length; i++) {
        const d = Math.abs(a[i] - b[i]);
        if (!(d <= m)) m = d; /* NaN propagates as a failure */
    }
    return m;
}

function compareOutputs(dir, session, ortResults) {
    let worst = 0;
    session.outputNames.forEach((name, i) => {
        const mine = readNpy(path.join(dir, `${i}.npy`));
        worst = Math.max(worst, maxAbsDiff(mine.data, ortResults[name].data));
        if (Number.isNaN(worst)) worst = Infinity;
    });
    return worst;
}

/* ---- one model at one thread count ---- */

async function timeEngines(engines, budgetMs, pinned) {
    for (let w = 0; w < WARMUP; w++) {
        for (const e of engines) {
            e.last = (await e.run()).ms;
            if (w === 0) e.first = e.last;
        }
    }
    /* Each turn: a pause (the other engine's spinning workers wind down),
     * untimed runs for WARM_MS, then BLOCK timed runs back to back, as a
     * program calling one engine in a loop would see them. */
    const settle = await spinDownMs(engines.find((e) => e.name === 'ort').run);
    const perRound = engines.reduce((s, e) => s + Math.max(e.last, WARM_MS) + BLOCK * e.last + settle, 0);
    let rounds = Math.ceil(
        Math.max(MIN_RUNS, Math.min(MAX_RUNS, BLOCK * Math.floor(budgetMs / perRound))) / BLOCK
    );
    /* Pinned: whole pairs of rounds, at least MIN_PAIRS, each a sample of the ratio. */
    if (pinned) rounds = Math.max(2 * MIN_PAIRS, rounds + (rounds % 2));
    for (let r = 0; r < rounds; r++) {
        if (pinned) pinRound(engines, r % 2);
        for (const e of engines) {
            await sleep(settle);
            const warmStart = performance.now();
            do await e.run();
            while (performance.now() - warmStart < WARM_MS);
            const turn = [];
            for (let k = 0; k < BLOCK; k++) {
                const t = await e.run();
                e.times.push(t.ms);
                e.cpu.push(t.cpu);
                turn.push(t.ms);
            }
            e.turns.push(median(turn));
        }
    }
    return { runs: rounds * BLOCK, settle, swapped_cores: pinned };
}

async function benchThreads(a, m, threads, precisions) {
    const drivers = {};
    const pinned = pinSelf(threads);
    try {
        return { ...(await benchEngines(a, m, threads, precisions, drivers, pinned)), pinned };
    } finally {
        for (const d of Object.values(drivers)) if (!d.closed) d.proc.kill();
    }
}

async function benchEngines(a, m, threads, precisions, drivers, pinned) {
    const model = path.join(m.dir, 'model.onnx');
    const inputArgs = m.inputs.map(([n, f]) => `${n}=${f}`);
    const res = { threads };
    for (const p of precisions) {
        drivers[p] = new Driver(a.driver, threads, p, model, inputArgs, pinned);
        res[`load_ms_${p}`] = Number(await drivers[p].expect('load_ms'));
    }
    const t0 = performance.now();
    const session = await ort.InferenceSession.create(model, ortOptions(threads));
    res.load_ms_ort = performance.now() - t0;
    const feeds = ortFeeds(m.inputs);
    let ortResults = null;
    const engines = [];
    for (const p of precisions)
        engines.push({ name: p, pid: drivers[p].proc.pid, times: [], cpu: [], turns: [], run: () => drivers[p].run() });
    const ortEngine = {
        name: 'ort',
        pid: process.pid,
        times: [],
        cpu: [],
        turns: [],
        run: async () => {
            const c = process.cpuUsage();
            const s = performance.now();
            ortResults = await session.run(feeds);
            const ms = performance.now() - s;
            const d = process.cpuUsage(c);
            return { ms, cpu: (d.user + d.system) / 1e3 };
        },
    };
    engines.splice(1, 0, ortEngine);
    Object.assign(res, await timeEngines(engines, a.budget * 1000, pinned));
    for (const e of engines) {
        res[`times_${e.name}`] = e.times;
        res[`cpus_${e.name}`] = e.cpu;
        res[`turns_${e.name}`] = [e.turns]; /* per pass: each turn's median, in order */
        res[`first_ms_${e.name}`] = e.first;
    }
    summarize(res);
    for (const p of precisions) {
        const dir = path.join(a.out, 'outputs', m.name, `t${threads}_${p}`);
        await drivers[p].dump(dir);
        res[`diff_${p}`] = compareOutputs(dir, session, ortResults);
        drivers[p].quit();
    }
    await session.release();
    return res;
}

/* Medians and spreads from the timed runs in r.times_<engine> / r.cpus_<engine>. */
function summarize(r) {
    for (const key of Object.keys(r).filter((k) => k.startsWith('times_'))) {
        const name = key.slice('times_'.length);
        r[`ms_${name}`] = median(r[key]);
        r[`cpu_ms_${name}`] = median(r[`cpus_${name}`]);
        const sorted = [...r[key]].sort((x, y) => x - y);
        r[`spread_ms_${name}`] = {
            min: sorted[0],
            p25: sorted[Math.floor((sorted.length - 1) / 4)],
            p75: sorted[Math.ceil(((sorted.length - 1) * 3) / 4)],
            max: sorted[sorted.length - 1],
        };
    }
    return r;
}

/* One result from the passes over a model and thread count: every pass's timed
 * runs and turns pooled (turns_<engine> keeps one list per pass), the first
 * pass's load times and first runs, the largest output difference. */
function mergePasses(passes) {
    const out = { ...passes[0] };
    for (const key of Object.keys(out)) {
        if (/^(times|cpus|turns)_/.test(key)) out[key] = passes.flatMap((p) => p[key]);
        if (key.startsWith('diff_')) out[key] = Math.max(...passes.map((p) => p[key]));
    }
    out.runs = passes.reduce((n, p) => n + p.runs, 0);
    out.settle = Math.max(...passes.map((p) => p.settle));
    return summarize(out);
}

/* ---- peak RSS, each engine in its own process ---- */

const failures = [];

function peakRss(a, cmd) {
    const r = spawnSync(a.peakRss, cmd, { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
    const m = /peak_rss_kb (\d+) exit (\d+)/.exec(r.stderr || '');
    if (!m || m[2] !== '0') {
        const why = m ? `exit status ${m[2]}` : 'did not run';
        failures.push(`\`${cmd.map((c) => path.basename(c)).join(' ')}\`: ${why}`);
        process.stderr.write(`peak_rss ${cmd.join(' ')} failed:\n${r.stderr}`);
        return null;
    }
    return Number(m[1]) / 1024;
}

function measureRss(a, m, reduced) {
    const model = path.join(m.dir, 'model.onnx');
    const inputs = m.inputs.map(([n, f]) => `${n}=${f}`);
    const ortOnce = (t) => peakRss(a, [process.execPath, path.join(__dirname, 'ort_once.js'), t, model, ...inputs]);
    const r = {
        rss_onnxrun: peakRss(a, [a.cli, '--threads', '1', model, ...inputs]),
        rss_ort: ortOnce('1'),
        rss_onnxrun_2t: peakRss(a, [a.cli, '--threads', '2', model, ...inputs]),
        rss_ort_2t: ortOnce('2'),
    };
    for (const p of reduced)
        r[`rss_onnxrun_${p}`] = peakRss(a, [a.cli, '--threads', '1', '--precision', p, model, ...inputs]);
    return r;
}

/* The per-run cost of each engine apart from the model: a one-node Identity model. */
async function measureOverhead(a) {
    const dir = path.join(a.models, '_overhead');
    if (!fs.existsSync(path.join(dir, 'model.onnx'))) return null;
    const m = { name: '_overhead', dir, inputs: [['x', path.join(dir, 'inputs', 'x.npy')]] };
    const r = await benchThreads({ ...a, budget: 0.5 }, m, 1, ['fp32']);
    return { onnxrun_ms: r.ms_fp32, ort_ms: r.ms_ort };
}

/* ---- main ---- */

function loadModels(a) {
    const names = fs.readdirSync(a.models).filter((n) => fs.existsSync(path.join(a.models, n, 'meta.json')));
    const order = JSON.parse(fs.readFileSync(path.join(a.models, 'order.json'), 'utf8'));
    const list = order.filter((n) => names.includes(n) && (!a.only || a.only.split(',').includes(n)));
    return list.map((name) => {
        const dir = path.join(a.models, name);
        const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8'));
        meta.dir = dir;
        meta.inputs = meta.inputs.map((n) => [n, path.join(dir, 'inputs', `${n}.npy`)]);
        return meta;
    });
}

function cliSupportsPrecision(cli) {
    const r = spawnSync(cli, ['--help'], { encoding: 'utf8' });
    const help = r.stdout || '';
    return ['bf16', 'int8'].filter((p) => /--precision/.test(help) && help.includes(p));
}

async function main() {
    const a = parseArgs(process.argv.slice(2));
    ort = require(path.join(__dirname, '..', 'node_modules', 'onnxruntime-node'));
    ort.env.logLevel = 'error';
    fs.mkdirSync(a.out, { recursive: true });
    const reduced = cliSupportsPrecision(a.cli);
    /* --precisions fp32 skips the reduced-precision runs (quicker iterations). */
    const wanted = (p) => !a.precisions || a.precisions.split(',').includes(p);
    const started = Date.now();
    const loadStart = os.loadavg();
    const results = [];
    const nodeBaseline = peakRss(a, [process.execPath, '-e', '0']);
    const overhead = await measureOverhead(a);
    const models = loadModels(a);
    const rows = models.map((m) => ({ model: m, by_threads: {} }));
    const passResults = rows.map(() => ({})); /* per row: threads -> results of the passes */
    const perPass = { ...a, budget: a.budget / a.passes };
    for (let pass = 1; pass <= a.passes; pass++)
        for (const [i, m] of models.entries())
            for (const t of a.threads) {
                const precisions = t === 1 ? ['fp32', ...reduced.filter(wanted)] : ['fp32'];
                let r;
                try {
                    r = await benchThreads(perPass, m, t, precisions);
                } catch (e) {
                    failures.push(`\`${m.name}\` with ${t} thread(s), pass ${pass}: ${e.message.split('\n')[0]}`);
                    process.stderr.write(`${m.name} ${t}T failed: ${e.message}\n`);
                    continue;
                }
                (passResults[i][t] = passResults[i][t] || []).push(r);
                process.stderr.write(
                    `pass ${pass}/${a.passes} ${m.name.padEnd(22)} ${t}T  onnxrun ${r.ms_fp32.toFixed(3)} ms  ort ` +
                        `${r.ms_ort.toFixed(3)} ms  ratio ${(r.ms_fp32 / r.ms_ort).toFixed(2)}  ` +
                        `diff ${r.diff_fp32.toExponential(1)}  (${r.runs} runs, pause ${r.settle.toFixed(0)} ms)\n`
                );
            }
    for (const [i, row] of rows.entries()) {
        for (const [t, list] of Object.entries(passResults[i])) row.by_threads[t] = mergePasses(list);
        Object.assign(row, measureRss(a, row.model, reduced.filter(wanted)));
        results.push(row);
    }
    const report = {
        date: new Date().toISOString(),
        cpu: os.cpus()[0].model,
        cores: os.cpus().length,
        fma_peak_gflops: a.fmaPeak,
        fma_peak_line: a.fmaPeakLine || '',
        read_gbs: a.readGbs,
        read_curve: a.readCurve || '',
        caches: a.caches || '',
        pinned_1t: results.some((r) => r.by_threads[1] && r.by_threads[1].pinned),
        warm_ms: WARM_MS,
        onnxrun_static_bytes: fs.statSync(a.cli).size,
        onnxrun_static: a.cliStatic === '1',
        ort_version: require(path.join(__dirname, '..', 'node_modules', 'onnxruntime-node', 'package.json')).version,
        reduced_precisions: reduced.filter(wanted),
        node_baseline_rss_mb: nodeBaseline,
        budget_s: a.budget,
        passes: a.passes,
        bench_seconds: (Date.now() - started) / 1000,
        overhead,
        failures,
        loadavg_start: loadStart,
        loadavg: os.loadavg(),
        results,
    };
    fs.writeFileSync(path.join(a.out, 'results.json'), JSON.stringify(report, null, 1));
    const { writeReport } = require('./report');
    writeReport(report, a);
    const wrong = results.filter((r) => Object.values(r.by_threads).some((t) => !(t.diff_fp32 <= ATOL)));
    if (wrong.length) {
        process.stderr.write(`bench: outputs differ from onnxruntime by more than ${ATOL}: ` +
            `${wrong.map((r) => r.model.name).join(', ')}\n`);
        process.exitCode = 3;
    }
}

main().catch((e) => {
    process.stderr.write(`bench: ${e.stack || e.message}\n`);
    process.exit(1);
});
