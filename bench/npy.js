/* Minimal .npy reader for the benchmark: little-endian float32 / int64 /
 * int32 arrays in C order (what bench/export_models.py and bench_onnxrun
 * write). Returns { type, dims, data } with data a typed array. */
'use strict';

const fs = require('fs');

const TYPES = {
    '<f4': ['float32', Float32Array],
    '<i8': ['int64', BigInt64Array],
    '<i4': ['int32', Int32Array],
};

function readNpy(file) {
    const buf = fs.readFileSync(file);
    if (buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${file}: not .npy`);
    const v1 = buf[6] === 1;
    const hlen = v1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
    const start = (v1 ? 10 : 12) + hlen;
    const header = buf.toString('latin1', v1 ? 10 : 12, start);
    const descr = /'descr':\s*'([^']+)'/.exec(header);
    const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
    if (!descr || !shape || /'fortran_order':\s*True/.test(header) || !TYPES[descr[1]])
        throw new Error(`${file}: unsupported header ${header.trim()}`);
    const [type, Arr] = TYPES[descr[1]];
    const dims = shape[1]
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s)
        .map(Number);
    const count = dims.reduce((a, b) => a * b, 1);
    const data = new Arr(count);
    new Uint8Array(data.buffer).set(buf.subarray(start, start + count * Arr.BYTES_PER_ELEMENT));
    return { type, dims, data };
}

module.exports = { readNpy };
