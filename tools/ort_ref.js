#!/usr/bin/env node
/* Reference runner: runs an ONNX model in onnxruntime (CPU, one thread) and
 * writes every output as .npy, named like the onnxrun CLI does, so the two
 * output folders can be compared file by file.
 *
 *   node tools/ort_ref.js MODEL OUTDIR [NAME=FILE.npy | FILE.npy ...]
 *   node tools/ort_ref.js --batch LIST
 *
 * A bare FILE.npy binds the next graph input in order. In batch mode each
 * non-blank line of LIST (# starts a comment) is "MODEL OUTDIR INPUT ...",
 * split on whitespace; one session-start pays for all cases, and a case that
 * onnxruntime rejects leaves OUTDIR/error.txt instead of stopping the batch.
 *
 * Exit: 0 ok (batch: the list was read, whatever the cases did), 1 onnxruntime
 * failed to load or run the model, 2 usage or missing onnxruntime, 3 bad input
 * file or name, 5 an output could not be written.
 */
'use strict';

const fs = require('fs');
const path = require('path');

class RefError extends Error {
    constructor(code, message) {
        super(message);
        this.code = code;
    }
}

/* numpy descr <-> onnxruntime tensor type, with the typed array holding it. */
const DTYPES = [
    { descr: 'f4', type: 'float32', array: Float32Array },
    { descr: 'f8', type: 'float64', array: Float64Array },
    { descr: 'i1', type: 'int8', array: Int8Array },
    { descr: 'u1', type: 'uint8', array: Uint8Array },
    { descr: 'i2', type: 'int16', array: Int16Array },
    { descr: 'u2', type: 'uint16', array: Uint16Array },
    { descr: 'i4', type: 'int32', array: Int32Array },
    { descr: 'u4', type: 'uint32', array: Uint32Array },
    { descr: 'i8', type: 'int64', array: BigInt64Array },
    { descr: 'u8', type: 'uint64', array: BigUint64Array },
    { descr: 'b1', type: 'bool', array: Uint8Array },
];

function sanitize(name) {
    return name.replace(/[^A-Za-z0-9._-]/g, '_');
}

/* ---- .npy (format 1.0-3.0, little-endian, C order) ---- */

function headerField(header, key) {
    const m = header.match(new RegExp(`['"]${key}['"]\\s*:\\s*('[^']*'|"[^"]*"|\\([^)]*\\)|True|False)`));
    return m ? m[1] : null;
}

function readNpy(file) {
    let buf;
    try {
        buf = fs.readFileSync(file);
    } catch (e) {
        throw new RefError(3, `${file}: cannot read: ${e.message}`);
    }
    const bad = (why) => new RefError(3, `${file}: not a supported .npy file: ${why}`);
    if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw bad('no NUMPY magic');
    const major = buf[6];
    let hlen, hstart;
    if (major === 1) {
        hlen = buf.readUInt16LE(8);
        hstart = 10;
    } else if (major === 2 || major === 3) {
        hlen = buf.readUInt32LE(8);
        hstart = 12;
    } else {
        throw bad(`format version ${major}`);
    }
    if (hstart + hlen > buf.length) throw bad('truncated header');
    const header = buf.toString('latin1', hstart, hstart + hlen);
    const descr = (headerField(header, 'descr') || '').replace(/['"]/g, '');
    const fortran = headerField(header, 'fortran_order');
    const shapeStr = headerField(header, 'shape');
    if (!descr || !fortran || !shapeStr) throw bad('header lacks descr, fortran_order or shape');
    if (fortran !== 'False') throw bad('Fortran order');
    const order = descr[0];
    const dt = DTYPES.find((d) => d.descr === descr.slice(1));
    if (!dt || order === '>' || (order !== '<' && order !== '|' && order !== '='))
        throw bad(`dtype ${descr}`);
    const dims = shapeStr
        .slice(1, -1)
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0)
        .map((s) => {
            if (!/^\d+$/.test(s)) throw bad(`shape ${shapeStr}`);
            return Number(s);
        });
    const count = dims.reduce((a, b) => a * b, 1);
    const start = hstart + hlen;
    const nbytes = count * dt.array.BYTES_PER_ELEMENT;
    if (buf.length - start !== nbytes)
        throw bad(`${buf.length - start} data bytes, shape ${shapeStr} needs ${nbytes}`);
    /* Copy so the typed array is aligned whatever the header length. */
    const data = new dt.array(count);
    new Uint8Array(data.buffer).set(buf.subarray(start, start + nbytes));
    return { type: dt.type, dims, data };
}

function writeNpy(file, tensor) {
    const dt = DTYPES.find((d) => d.type === tensor.type);
    if (!dt) throw new RefError(1, `output dtype ${tensor.type} has no .npy mapping here`);
    const order = dt.array.BYTES_PER_ELEMENT === 1 ? '|' : '<';
    const dims = tensor.dims.map(Number);
    const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
    let header = `{'descr': '${order}${dt.descr}', 'fortran_order': False, 'shape': ${shape}, }`;
    const total = 10 + header.length + 1;
    header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
    const head = Buffer.alloc(10);
    head.write('\x93NUMPY', 0, 'latin1');
    head[6] = 1;
    head[7] = 0;
    head.writeUInt16LE(header.length, 8);
    const src = tensor.data;
    const body = Buffer.from(src.buffer, src.byteOffset, src.byteLength);
    try {
        fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), body]));
    } catch (e) {
        throw new RefError(5, `${file}: cannot write: ${e.message}`);
    }
}

/* ---- running one case ---- */

let ort = null;

function loadOrt() {
    try {
        ort = require('onnxruntime-node');
        ort.env.logLevel = 'fatal';
    } catch (e) {
        throw new RefError(
            2,
            `cannot load onnxruntime-node (${e.message.split('\n')[0]}); ` +
                'run `ONNXRUNTIME_NODE_INSTALL=skip npm ci` in the repository root'
        );
    }
}

function bindInputs(session, args) {
    const feeds = {};
    let next = 0;
    for (const arg of args) {
        const eq = arg.indexOf('=');
        let name, file;
        if (eq > 0 && !arg.slice(0, eq).includes('/')) {
            name = arg.slice(0, eq);
            file = arg.slice(eq + 1);
            if (!session.inputNames.includes(name))
                throw new RefError(
                    3,
                    `model has no input '${name}' (inputs: ${session.inputNames.join(', ')})`
                );
        } else {
            while (next < session.inputNames.length && session.inputNames[next] in feeds) next++;
            if (next >= session.inputNames.length)
                throw new RefError(3, `${arg}: more input files than model inputs`);
            name = session.inputNames[next];
            file = arg;
        }
        if (name in feeds) throw new RefError(3, `input '${name}' given twice`);
        if (!file.endsWith('.npy')) throw new RefError(3, `${file}: only .npy inputs are read`);
        const t = readNpy(file);
        feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
    }
    const missing = session.inputNames.filter((n) => !(n in feeds));
    if (missing.length) throw new RefError(3, `missing input(s): ${missing.join(', ')}`);
    return feeds;
}

async function runCase(model, outdir, inputArgs) {
    let session;
    try {
        session = await ort.InferenceSession.create(model, {
            executionProviders: ['cpu'],
            intraOpNumThreads: 1,
            interOpNumThreads: 1,
            executionMode: 'sequential',
            graphOptimizationLevel: 'basic',
            logSeverityLevel: 4, // failures are reported through exceptions
        });
    } catch (e) {
        throw new RefError(1, `${model}: onnxruntime cannot load the model: ${e.message}`);
    }
    try {
        const feeds = bindInputs(session, inputArgs);
        let results;
        try {
            results = await session.run(feeds);
        } catch (e) {
            throw new RefError(1, `${model}: onnxruntime failed to run: ${e.message}`);
        }
        try {
            fs.mkdirSync(outdir, { recursive: true });
        } catch (e) {
            throw new RefError(5, `${outdir}: cannot create: ${e.message}`);
        }
        for (const name of session.outputNames)
            writeNpy(path.join(outdir, sanitize(name) + '.npy'), results[name]);
        return session.outputNames.length;
    } finally {
        await session.release();
    }
}

/* ---- batch mode ---- */

async function runBatch(listFile) {
    let text;
    try {
        text = fs.readFileSync(listFile, 'utf8');
    } catch (e) {
        throw new RefError(3, `${listFile}: cannot read: ${e.message}`);
    }
    let ok = 0,
        failed = 0;
    for (const [i, raw] of text.split('\n').entries()) {
        const line = raw.replace(/#.*/, '').trim();
        if (!line) continue;
        const fields = line.split(/\s+/);
        if (fields.length < 2) {
            process.stderr.write(`${listFile}:${i + 1}: expected MODEL OUTDIR INPUT...\n`);
            failed++;
            continue;
        }
        const [model, outdir, ...inputs] = fields;
        fs.rmSync(path.join(outdir, 'error.txt'), { force: true });
        try {
            await runCase(model, outdir, inputs);
            ok++;
        } catch (e) {
            if (!(e instanceof RefError)) throw e;
            failed++;
            fs.mkdirSync(outdir, { recursive: true });
            fs.writeFileSync(path.join(outdir, 'error.txt'), e.message + '\n');
        }
    }
    process.stderr.write(`ort_ref: ${ok} cases ran, ${failed} rejected (see OUTDIR/error.txt)\n`);
}

const USAGE =
    'usage: node tools/ort_ref.js MODEL OUTDIR [NAME=FILE.npy | FILE.npy ...]\n' +
    '       node tools/ort_ref.js --batch LIST   (lines: MODEL OUTDIR INPUT...)\n';

async function main(argv) {
    if (argv.length === 0 || argv[0] === '-h' || argv[0] === '--help') {
        process.stdout.write(USAGE);
        return argv.length === 0 ? 2 : 0;
    }
    if (argv[0] === '--batch') {
        if (argv.length !== 2) throw new RefError(2, USAGE.trimEnd());
        loadOrt();
        await runBatch(argv[1]);
        return 0;
    }
    if (argv.length < 2) throw new RefError(2, USAGE.trimEnd());
    loadOrt();
    await runCase(argv[0], argv[1], argv.slice(2));
    return 0;
}

main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
        process.stderr.write(`ort_ref: ${e.message}\n`);
        process.exit(e instanceof RefError ? e.code : 1);
    }
);
