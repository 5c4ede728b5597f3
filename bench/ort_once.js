#!/usr/bin/env node
/* Loads a model in onnxruntime, runs it once and exits: the process whose
 * peak RSS bench.js reports for onnxruntime.
 *   node bench/ort_once.js THREADS MODEL NAME=FILE.npy ...
 *   node bench/ort_once.js --baseline    (loads onnxruntime-node, no model)
 */
'use strict';

const path = require('path');
const { readNpy } = require('./npy');

async function main(argv) {
    const ort = require(path.join(__dirname, '..', 'node_modules', 'onnxruntime-node'));
    if (argv[0] === '--baseline') return;
    const [threads, model, ...inputs] = argv;
    const session = await ort.InferenceSession.create(model, {
        executionProviders: ['cpu'],
        intraOpNumThreads: Number(threads),
        interOpNumThreads: 1,
        executionMode: 'sequential',
    });
    const feeds = {};
    for (const arg of inputs) {
        const eq = arg.indexOf('=');
        const t = readNpy(arg.slice(eq + 1));
        feeds[arg.slice(0, eq)] = new ort.Tensor(t.type, t.data, t.dims);
    }
    await session.run(feeds);
}

main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`ort_once: ${e.message}\n`);
    process.exit(1);
});
