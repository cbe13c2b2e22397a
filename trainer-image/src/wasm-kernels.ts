// tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel, so a CNN can run inference on wasm
// but not train. It does have Conv3DBackpropFilterV2, and a 2-D convolution is a 3-D one with a
// depth of 1: this registers the missing kernel as that, by viewing the same buffers with a
// leading depth axis (shape is metadata only; no data is copied).
// Only stride 1: the wasm 3-D kernel disagrees with the cpu reference for larger strides, and
// the trainer's conv blocks use stride 1 (pooling does the downsampling).
import { getKernel, registerKernel, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';

const NAME = 'Conv2DBackpropFilter';

interface Attrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number;
  dataFormat?: 'NHWC' | 'NCHW';
  filterShape: [number, number, number, number];
}

export function registerWasmConv2DBackpropFilter(): void {
  if (getKernel(NAME, 'wasm') !== undefined) return; // a newer wasm build implements it itself
  const conv3d = getKernel('Conv3DBackpropFilterV2', 'wasm');
  if (conv3d === undefined) return;

  const config: KernelConfig = {
    kernelName: NAME,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
      const a = attrs as unknown as Attrs;
      if (a.dataFormat === 'NCHW') throw new Error(`${NAME} on wasm supports only NHWC`);
      if (typeof a.pad === 'number')
        throw new Error(`${NAME} on wasm supports only 'same' and 'valid' padding`);
      const [sh, sw] = typeof a.strides === 'number' ? [a.strides, a.strides] : a.strides;
      if (sh !== 1 || sw !== 1) throw new Error(`${NAME} on wasm supports only stride 1`);
      const as5d = (t: TensorInfo): TensorInfo => ({
        dataId: t.dataId,
        dtype: t.dtype,
        shape: [t.shape[0] as number, 1, ...t.shape.slice(1)],
      });
      const out = conv3d.kernelFunc({
        inputs: { x: as5d(x), dy: as5d(dy) },
        backend,
        attrs: { strides: [1, sh, sw], pad: a.pad, filterShape: [1, ...a.filterShape] },
      }) as TensorInfo;
      return { dataId: out.dataId, dtype: out.dtype, shape: [...a.filterShape] };
    },
  };
  registerKernel(config);
}
