// ort_run.js MODEL INPUT N,C,H,W OUTPUT — runs an ONNX model in onnxruntime (npm onnxruntime-node,
// CPU) on a float32 little-endian NCHW tensor and writes the first output as float32 little-endian.
// Prints "onnxruntime VERSION input NAME output NAME dims".
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const [model, input, shapeArg, output] = process.argv.slice(2);
  if (!output) throw new Error('usage: ort_run.js MODEL INPUT N,C,H,W OUTPUT');
  const shape = shapeArg.split(',').map(Number);
  const bytes = fs.readFileSync(input);
  const n = shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== 4 * n) throw new Error(`${input}: ${bytes.length} bytes, shape needs ${4 * n}`);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = bytes.readFloatLE(4 * i);
  const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'] });
  const feeds = {};
  feeds[session.inputNames[0]] = new ort.Tensor('float32', data, shape);
  const result = await session.run(feeds);
  const y = result[session.outputNames[0]];
  const out = Buffer.alloc(4 * y.data.length);
  for (let i = 0; i < y.data.length; i++) out.writeFloatLE(y.data[i], 4 * i);
  fs.writeFileSync(output, out);
  console.log(`onnxruntime ${ort.env.versions.node} input ${session.inputNames[0]} output ${session.outputNames[0]} ${y.dims.join('x')}`);
}

main().catch((e) => {
  console.error(`ort_run.js: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
