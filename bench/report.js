/* Turns bench.js's results into bench/results.md and the ratio chart
 * (bench/ratios.png, drawn by gnuplot when it is installed). */
'use strict';

const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

/* Targets from issue 5: small = at most 1M parameters, large = hidden >= 512. */
function category(m) {
    if (m.params <= 1e6) return 'small';
    if (m.hidden >= 512) return 'large';
    return 'medium';
}

const TARGETS = {
    small: { t1: 0.5 },
    large: { t1: 0.7, t2: 0.8, reduced_b1: 0.35 },
    medium: {},
};
const RSS_TARGET = 1 / 3;
const ATOL = 1e-4;

const f = (x, d = 2) => (x === null || x === undefined || !isFinite(x) ? '—' : x.toFixed(d));
const ms = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const gflop = (x) => (x / 1e9).toFixed(x < 1e8 ? 3 : 2);
const params = (p) => (p >= 1e6 ? (p / 1e6).toFixed(2) + 'M' : (p / 1e3).toFixed(0) + 'k');

/* onnxruntime's time less the part of its fixed per-run cost (measured on an Identity
 * model) that onnxrun does not have: mostly onnxruntime-node's binding, which a C or C++
 * user of onnxruntime would not pay. Errs in onnxruntime's favour. */
function ortAdjusted(rep, ortMs) {
    const o = rep.overhead;
    return o ? ortMs - Math.max(0, Math.min(o.ort_ms - o.onnxrun_ms, ortMs / 2)) : ortMs;
}

const ratio = (rep, onnxMs, ortMs) => onnxMs / ortAdjusted(rep, ortMs);

function medianOf(xs) {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/* An engine's ratio to onnxruntime turn by turn: its turn against the
 * onnxruntime turn next to it (each the median of its timed runs). When the
 * engines swapped cores every round (bench.js pinRound: a pass holds whole
 * pairs of rounds, one on each core assignment), each pair counts once, with
 * the geometric mean of its two ratios, so that one core running faster than
 * the other while the pair ran cancels out. */
function turnSamples(rep, engineTurns, ortTurns, swapped) {
    const rs = engineTurns.map((x, i) => ratio(rep, x, ortTurns[i]));
    if (!swapped) return rs.filter((r) => Number.isFinite(r));
    const pairs = [];
    for (let i = 0; i + 1 < rs.length; i += 2) pairs.push(Math.sqrt(rs[i] * rs[i + 1]));
    return pairs.filter((r) => Number.isFinite(r));
}

/* The median over every pass's samples; from the pooled medians when turns
 * were not recorded. */
function pairedRatio(rep, t, engine) {
    const on = t[`turns_${engine}`], ort = t.turns_ort;
    if (!on || !ort) return ratio(rep, t[`ms_${engine}`], t.ms_ort);
    return medianOf(on.flatMap((turns, p) => turnSamples(rep, turns, ort[p], t.swapped_cores)));
}

/* A ratio against its target; counts only measured values. Three decimals when two
 * would print the value equal to the target. */
function verdict(value, target, tally) {
    if (value === null || value === undefined || !isFinite(value)) return '—';
    if (target === undefined) return f(value);
    const ok = value <= target;
    tally.total++;
    if (ok) tally.met++;
    const shown = f(value) === f(target) ? f(value, 3) : f(value);
    return `${shown} ${ok ? '✅' : '❌'} (≤${f(target)})`;
}

/* The lowest and highest of the passes' ratios, when there was more than one
 * pass: how far the machine's drift moved it. */
function passRange(rep, t, engine) {
    const on = t[`turns_${engine}`], ort = t.turns_ort;
    if (!on || !ort || on.length < 2) return '';
    const rs = on.map((turns, p) => medianOf(turnSamples(rep, turns, ort[p], t.swapped_cores)));
    return ` [${f(Math.min(...rs))}–${f(Math.max(...rs))}]`;
}

function latencyTable(rep, tally) {
    const out = [
        '| model | params | GFLOP/run | ORT 1T ms | onnxrun 1T ms | ratio 1T | CPU-time ratio 1T | ORT 2T ms | onnxrun 2T ms | ratio 2T | max abs diff |',
        '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
    ];
    for (const row of rep.results) {
        const m = row.model;
        const tg = TARGETS[category(m)];
        const t1 = row.by_threads[1], t2 = row.by_threads[2];
        const diffs = [t1, t2].filter((t) => t).map((t) => t.diff_fp32);
        const diff = Math.max(...diffs);
        const diffCell = diffs.length ? `${diff.toExponential(1)} ${diff <= ATOL ? '✅' : '❌'}` : '—';
        out.push(
            `| \`${m.name}\` (${category(m)}) | ${params(m.params)} | ${gflop(m.flops)} | ` +
                (t1
                    ? `${ms(t1.ms_ort)} | ${ms(t1.ms_fp32)} | ` +
                      `${verdict(pairedRatio(rep, t1, 'fp32'), tg.t1, tally)}${passRange(rep, t1, 'fp32')} | ` +
                      `${f(t1.cpu_ms_fp32 / t1.cpu_ms_ort)} | `
                    : '— | — | — | — | ') +
                (t2
                    ? `${ms(t2.ms_ort)} | ${ms(t2.ms_fp32)} | ` +
                      `${verdict(pairedRatio(rep, t2, 'fp32'), tg.t2, tally)}${passRange(rep, t2, 'fp32')} | `
                    : '— | — | — | ') +
                `${diffCell} |`
        );
    }
    return out;
}

/* Load time (best of the thread counts) and, in parentheses, the first run after it. */
function loadCell(row, engine) {
    const rs = Object.values(row.by_threads);
    if (!rs.length) return '—';
    const best = rs.reduce((b, r) => (r[`load_ms_${engine}`] < b[`load_ms_${engine}`] ? r : b));
    const first = best[`first_ms_${engine}`];
    return `${ms(best[`load_ms_${engine}`])}` + (first !== undefined ? ` (${ms(first)})` : '');
}

const pct = (x, peak) => (x === null ? '—' : `${f((x / peak) * 100, 1)}%`);

/* Bytes of R one batch-1 run reads: all of R of every layer and direction
 * at every step (null for other batches, where R is reused across rows). */
function rStreamBytes(m) {
    const gates = { lstm: 4, gru: 3, rnn: 1 }[m.kind];
    if (m.batch !== 1 || !gates) return null;
    return 4 * gates * m.hidden * m.hidden * (m.bidir ? 2 : 1) * m.layers * m.seq;
}

function efficiencyTable(rep, tally) {
    const peak = rep.fma_peak_gflops;
    const out = [
        '| model | onnxrun GFLOP/s 1T | % of 1-core peak | ORT GFLOP/s 1T | R read GB/s 1T onnxrun / ORT (batch 1) | onnxrun GFLOP/s 2T | % of 2-core peak | load ms onnxrun (1st run) | load ms ORT (1st run) | peak RSS MB onnxrun | peak RSS MB ORT (net of node) | RSS ratio | peak RSS MB 2T onnxrun / ORT (net) | RSS ratio 2T |',
        '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
    ];
    for (const row of rep.results) {
        const m = row.model;
        const t1 = row.by_threads[1], t2 = row.by_threads[2];
        const gf = (r) => (r ? m.flops / (r.ms_fp32 / 1e3) / 1e9 : null);
        const ortNet = row.rss_ort !== null && rep.node_baseline_rss_mb ? row.rss_ort - rep.node_baseline_rss_mb : null;
        const rssRatio = row.rss_onnxrun !== null && ortNet ? row.rss_onnxrun / ortNet : null;
        const ortNet2 = row.rss_ort_2t != null && rep.node_baseline_rss_mb ? row.rss_ort_2t - rep.node_baseline_rss_mb : null;
        const rssRatio2 = row.rss_onnxrun_2t != null && ortNet2 ? row.rss_onnxrun_2t / ortNet2 : null;
        const rb = rStreamBytes(m), gbs = (t) => (rb && t ? f(rb / (t / 1e3) / 1e9, 1) : '—');
        out.push(
            `| \`${m.name}\` | ${f(gf(t1), 1)} | ${pct(gf(t1), peak)} | ` +
                `${t1 ? f(m.flops / (t1.ms_ort / 1e3) / 1e9, 1) : '—'} | ` +
                `${rb && t1 ? `${gbs(t1.ms_fp32)} / ${gbs(t1.ms_ort)}` : '—'} | ${f(gf(t2), 1)} | ` +
                `${pct(gf(t2), 2 * peak)} | ${loadCell(row, 'fp32')} | ${loadCell(row, 'ort')} | ` +
                `${f(row.rss_onnxrun, 1)} | ${f(row.rss_ort, 1)} (${f(ortNet, 1)}) | ${verdict(rssRatio, RSS_TARGET, tally)} | ` +
                `${f(row.rss_onnxrun_2t, 1)} / ${f(row.rss_ort_2t, 1)} (${f(ortNet2, 1)}) | ${f(rssRatio2, 2)} |`
        );
    }
    return out;
}

function reducedTable(rep, tally) {
    const ps = rep.reduced_precisions;
    const head = ['| model | ORT fp32 1T ms'];
    for (const p of ps) head.push(`onnxrun ${p} ms | ${p} / ORT fp32 | ${p} max abs err | ${p} peak RSS MB`);
    head.push(`best of ${ps.join(' / ')}`);
    const out = [head.join(' | ') + ' |', '|---|--:|' + ps.map(() => '--:|--:|--:|--:|').join('') + '--:|'];
    for (const row of rep.results) {
        const m = row.model, t1 = row.by_threads[1];
        if (!t1) continue;
        const target = category(m) === 'large' && m.batch === 1 ? TARGETS.large.reduced_b1 : undefined;
        const cells = [`| \`${m.name}\``, ms(t1.ms_ort)];
        const ratios = [];
        for (const p of ps) {
            const r = t1[`ms_${p}`] === undefined ? undefined : pairedRatio(rep, t1, p);
            if (r !== undefined && Number.isFinite(r)) ratios.push(r);
            cells.push(
                `${ms(t1[`ms_${p}`])} | ${verdict(r, target, { met: 0, total: 0 })} | ` +
                    `${t1[`diff_${p}`].toExponential(1)} | ${f(row[`rss_onnxrun_${p}`], 1)}`
            );
        }
        /* The issue asks for bf16 and/or int8: one target per model, met by either. */
        cells.push(ratios.length ? verdict(Math.min(...ratios), target, tally) : '—');
        out.push(cells.join(' | ') + ' |');
    }
    return out;
}

/* The cache sizes onnxrun's heuristics used and where the L3's came from
 * (bench/cache_sizes), as a sentence. */
function cacheSentence(caches) {
    const m = /l2_kib (\d+) l3_kib (\d+) source (\w+)/.exec(caches || '');
    if (!m) return '';
    const size = (kib) => (kib >= 1024 && kib % 1024 === 0 ? `${kib / 1024} MiB` : `${kib} KiB`);
    const from =
        {
            sysfs: 'from sysfs',
            env: 'the L3 from ONNXRUN_L3_BYTES',
            none: 'the L3 unknown',
            cpuid: "from glibc's CPUID figure (no sysfs; the L3 capped on AMD)",
        }[m[3]] || m[3];
    return (
        ` Cache sizes onnxrun's heuristics used: L2 ${size(Number(m[1]))}, ` +
        `L3 ${size(Number(m[2]))}, ${from}.`
    );
}

/* "KiB:GB/s,..." from bench/mem_bw --curve (via run.sh) as "256 KiB 103", ...; entries that
 * do not parse are left out rather than failing the report after the runs. */
function readCurve(curve) {
    return (curve || '')
        .split(',')
        .map((p) => p.split(':').map(Number))
        .filter(([kib, gbs]) => Number.isFinite(kib) && Number.isFinite(gbs))
        .map(([kib, gbs]) => `${kib >= 1024 ? kib / 1024 + ' MiB' : kib + ' KiB'} ${gbs.toFixed(0)}`);
}

function header(rep) {
    const sizeKb = (rep.onnxrun_static_bytes / 1024).toFixed(0);
    const curve = readCurve(rep.read_curve);
    const load = (l) => l.map((x) => x.toFixed(1)).join(' / ');
    const busy = Math.max(rep.loadavg_start[0], rep.loadavg[0]) > rep.cores;
    return [
        `Measured ${rep.date.slice(0, 16).replace('T', ' ')} UTC by \`bash bench/run.sh\` on ${rep.cpu} ` +
            `(${rep.cores} cores), onnxruntime ${rep.ort_version} (onnxruntime-node, CPU provider, ` +
            `default graph optimizations). One-core FMA peak measured by \`bench/fma_peak\`: ` +
            `**${f(rep.fma_peak_gflops, 1)} GFLOP/s** (${rep.fma_peak_line}).` +
            (rep.read_gbs
                ? ` One-core read bandwidth from memory (\`bench/mem_bw\`, 256 MiB): **${f(rep.read_gbs, 1)} GB/s**.`
                : '') +
            (curve.length ? ` By buffer size (\`bench/mem_bw --curve\`, GB/s): ${curve.join(', ')}.` : '') +
            cacheSentence(rep.caches),
        '',
        `\`onnxrun\` CLI binary${rep.onnxrun_static ? ', statically linked' : ' (NOT static)'}: ` +
            `**${sizeKb} KiB**. Benchmark time ${(rep.bench_seconds / 60).toFixed(1)} min ` +
            `(${rep.budget_s} s per model and thread count, in ${rep.passes || 1} passes over the models); ` +
            'load average (1/5/15 min) ' +
            `${load(rep.loadavg_start)} at the start, ${load(rep.loadavg)} at the end.` +
            (busy
                ? ' **The machine was oversubscribed (load above its core count): latencies are ' +
                  'inflated by time-slicing, and 2-thread figures (onnxruntime spins its workers) ' +
                  'are unreliable; the CPU-time ratio is the steadier 1-thread comparison.**'
                : ''),
    ];
}

function notes(rep) {
    return [
        'How it is measured: each model runs in onnxrun (`bench/bench_onnxrun`, public C API) and',
        'onnxruntime in the same run. After two warm-up runs of each, the engines take turns: a turn',
        `is a pause, untimed runs for ${rep.warm_ms ?? 0} ms (at least one: a core idle through the pause takes`,
        'that long to come back to speed on a VM) and 4 timed ones, and a round is one turn of each',
        'engine (at least 2 rounds per pass). The benchmark goes through all the models in several passes and',
        'pools every pass\'s runs, so that the machine\'s drift over minutes spreads over every',
        'model; the latencies shown are the medians of the pooled timed runs. A ratio compares each',
        'turn\'s median with the onnxruntime turn of the same round and is the median of those',
        'per-turn ratios over the passes (so it need not equal the ratio of the two median times',
        'shown); in brackets after a latency ratio, its lowest and highest over the passes.' +
            (rep.pinned_1t
                ? ' With 1 thread the engines are pinned with taskset to cores of their own' +
                  ' (onnxruntime\'s node process to one, the onnxrun drivers to the other) which they' +
                  ' swap every round, in at least 2 pairs of rounds per pass; a 1-thread ratio is the' +
                  ' median over the pairs of the geometric mean of the pair\'s two per-turn ratios,' +
                  ' which cancels one core running faster than the other. 2-thread runs are not pinned.'
                : ''),
        'CPU-time ratio: the ratio of the pooled medians of each run\'s process CPU time',
        '(`CLOCK_PROCESS_CPUTIME_ID` / `process.cpuUsage()`), which time-slicing by other processes',
        'does not inflate.',
        'ORT: `intraOpNumThreads` = T,',
        '`interOpNumThreads` = 1, sequential execution; onnxrun: `num_threads` = T. GFLOP/run counts',
        'the recurrent FLOPs (formula in `bench/export_models.py`: 2·G·H·(I+H) for the two',
        'projections + 3·G·H gate math + the cell update, per step, row, layer and direction; plus',
        'Linear heads). Peak RSS: one process per engine running the model once (the static',
        '`onnxrun` CLI; `node bench/ort_once.js`), `ru_maxrss` from `bench/peak_rss`; ORT\'s',
        `figure in parentheses subtracts a bare \`node\` process (${f(rep.node_baseline_rss_mb, 1)} MB), and the`,
        'RSS ratio uses it. The RSS target is judged at 1 thread (the CLI\'s default); the 2-thread',
        'columns are for information: there the team engine keeps up to 2 MiB of X·Wᵀ per direction,',
        'and a pipelined pair its first layer\'s for the whole sequence (up to 16 MiB; speed over',
        'memory: `--max-memory` brings both near the 1-thread figure).' +
            (rep.overhead
                ? ` Fixed cost of one run (a one-node Identity model): onnxrun ${f(rep.overhead.onnxrun_ms * 1e3, 0)} µs, ` +
                  `onnxruntime through onnxruntime-node ${f(rep.overhead.ort_ms * 1e3, 0)} µs. The latencies include it; ` +
                  'the latency ratios (and the chart) take the difference off onnxruntime\'s time first, as a C/C++ ' +
                  'caller of onnxruntime would not pay the node binding (this errs in onnxruntime\'s favour). ' +
                  'The CPU-time ratio is not adjusted.'
                : ''),
        'R read GB/s (batch 1): the bytes of R a run must read (every layer and direction, every',
        'step: 4·G·H²·D·L·seq) over its median time; while R does not fit the caches this cannot',
        'pass the machine\'s read bandwidth, for any engine.',
        'Max abs diff: onnxrun fp32 vs onnxruntime outputs (tolerance 1e-4).',
        'Targets: small (≤1M parameters) 1T ≤0.5; large (hidden ≥512) 1T ≤0.7, 2T ≤0.8,',
        'bf16/int8 batch 1 ≤0.35 × ORT fp32; peak RSS ≤1/3 of ORT\'s. The machine is shared, so',
        'absolute times move between runs; ratios are steadier because the engines alternate.',
    ];
}

function writeChart(rep, a) {
    const allCols = ['1 thread', '2 threads', ...rep.reduced_precisions.map((p) => `${p} 1T`)];
    const table = rep.results.map((row) => {
        const t1 = row.by_threads[1], t2 = row.by_threads[2];
        const vals = [t1 ? pairedRatio(rep, t1, 'fp32') : NaN, t2 ? pairedRatio(rep, t2, 'fp32') : NaN];
        for (const p of rep.reduced_precisions)
            vals.push(t1 && t1[`ms_${p}`] !== undefined ? pairedRatio(rep, t1, p) : NaN);
        return vals;
    });
    /* A partial run (--threads 1, say) leaves whole columns unmeasured; gnuplot
     * refuses a histogram column without a valid point. */
    const kept = allCols.map((_, i) => i).filter((i) => table.some((vals) => isFinite(vals[i])));
    const cols = kept.map((i) => allCols[i]);
    const lines = ['# model ' + cols.map((c) => `"${c}"`).join(' ')];
    for (const [r, row] of rep.results.entries())
        lines.push(`"${row.model.name}" ` + kept.map((i) => table[r][i]).map((v) => (isFinite(v) ? v.toFixed(4) : 'NaN')).join(' '));
    const dat = path.join(a.out, 'ratios.dat');
    fs.writeFileSync(dat, lines.join('\n') + '\n');
    const png = a.png || path.join(a.out, 'ratios.png');
    const plots = cols.map((c, i) => `'${dat}' using ${i + 2}:xtic(1) title '${c}'`).join(', \\\n  ');
    const gp = [
        `set terminal pngcairo size 1200,560 font 'DejaVu Sans,10'`,
        `set output '${png}'`,
        'set termoption noenhanced',
        `set title 'onnxrun latency / onnxruntime latency (lower is better; 1 = parity)'`,
        'set style data histograms',
        'set style histogram clustered gap 1',
        'set style fill solid 0.85 border -1',
        'set boxwidth 0.9',
        'set yrange [0:1.15<*]',
        'set grid ytics',
        'set xtics rotate by -30 left',
        'set rmargin 12',
        'set bmargin 7',
        'set key top left',
        'set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 2 lc rgb "black" front',
        `plot ${plots}`,
    ].join('\n');
    const gpFile = path.join(a.out, 'ratios.gp');
    fs.writeFileSync(gpFile, gp + '\n');
    const r = spawnSync('gnuplot', [gpFile], { encoding: 'utf8' });
    if (r.status !== 0) process.stderr.write(`gnuplot failed (chart not drawn): ${r.stderr || r.error}\n`);
}

function writeReport(rep, a) {
    const tally = { met: 0, total: 0 };
    const body = [
        ...header(rep),
        '',
        '**Latency** (median ms; T = threads; ratio = onnxrun / onnxruntime, lower is better, ' +
            'with onnxruntime-node\'s fixed binding cost taken off onnxruntime\'s time: see the notes)',
        '',
        ...latencyTable(rep, tally),
        '',
        '**Throughput, load time, memory** (fp32)',
        '',
        ...efficiencyTable(rep, tally),
    ];
    if (rep.reduced_precisions.length) {
        body.push('', '**Reduced-precision weights** (1 thread; error vs onnxruntime fp32 outputs)', '');
        body.push(...reducedTable(rep, tally));
    } else {
        body.push('', 'Reduced-precision weights: not offered by this build (`onnxrun --help` has no `--precision`).');
    }
    body.push('', `Targets met: **${tally.met} of ${tally.total}**.`);
    if (rep.failures && rep.failures.length)
        body.push('', 'Failed measurements (shown as —):', '', ...rep.failures.map((x) => `- ${x}`));
    body.push('', ...notes(rep), '');
    const md = a.md || path.join(a.out, 'results.md');
    fs.writeFileSync(md, body.join('\n'));
    writeChart(rep, a);
}

module.exports = { writeReport };

/* `node bench/report.js RESULTS.json OUTDIR MD PNG` redraws from saved results. */
if (require.main === module) {
    const [json, out, md, png] = process.argv.slice(2);
    writeReport(JSON.parse(fs.readFileSync(json, 'utf8')), { out, md, png });
}
