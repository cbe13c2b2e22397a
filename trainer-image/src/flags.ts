// Command-line flags: parsing, validation and the usage text. Every tunable hyperparameter is a
// flag so that a Study can search over it without touching the image.
import { parseArgs } from 'node:util';
import { UserError } from './errors.js';

export const OPTIMIZERS = ['sgd', 'momentum', 'adam', 'rmsprop', 'adagrad'] as const;
export const MODELS = ['mlp', 'cnn'] as const;
export const ACTIVATIONS = ['relu', 'elu', 'tanh', 'sigmoid'] as const;
export const LR_SCHEDULES = ['constant', 'step', 'exponential', 'cosine'] as const;
export const BACKENDS = ['auto', 'tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'] as const;

export type Optimizer = (typeof OPTIMIZERS)[number];
export type ModelType = (typeof MODELS)[number];
export type Activation = (typeof ACTIVATIONS)[number];
export type LrSchedule = (typeof LR_SCHEDULES)[number];
export type BackendChoice = (typeof BACKENDS)[number];

export interface TrainerConfig {
  model: ModelType;
  layers: number;
  units: number;
  filters: number;
  activation: Activation;
  dropout: number;
  optimizer: Optimizer;
  learningRate: number;
  momentum: number;
  weightDecay: number;
  lrSchedule: LrSchedule;
  lrDecay: number;
  lrStepEpochs: number;
  batchSize: number;
  epochs: number;
  seed: number;
  trainSize: number | undefined;
  valFraction: number;
  valSize: number | undefined;
  folds: number | undefined;
  fold: number | undefined;
  dataDir: string | undefined;
  backend: BackendChoice;
  checkpointDir: string | undefined;
  metricsPort: number | undefined;
  metricsHost: string;
  metricsLingerSeconds: number;
  failOnNan: boolean;
}

/** A mistake in the command line: reported as one clear line and exit code 2, never a stack trace. */
export class UsageError extends UserError {
  override name = 'UsageError';
}

export const USAGE = `Usage: kubetune-trainer [flags]

Trains a small neural network with TensorFlow.js. After each epoch it prints one line of
space-separated key=value metrics on stdout (epoch, loss, accuracy, val_loss, val_accuracy, lr,
epoch_seconds); progress and errors go to stderr.

Model
  --model mlp|cnn              network type (default mlp)
  --layers N                   hidden dense layers (mlp) or conv blocks (cnn) (default 1)
  --units N                    units per hidden dense layer (default 128)
  --filters N                  filters of the first conv block, doubled per block (cnn, default 16)
  --activation NAME            relu|elu|tanh|sigmoid (default relu)
  --dropout F                  dropout rate in [0, 1) (default 0.2)

Optimisation
  --optimizer NAME             sgd|momentum|adam|rmsprop|adagrad (default adam)
  --learning-rate F, --lr F    initial learning rate > 0 (default 0.001)
  --momentum F                 momentum for the momentum optimizer, in [0, 1) (default 0.9)
  --weight-decay F             L2 penalty on kernels, >= 0 (default 0)
  --lr-schedule NAME           constant|step|exponential|cosine (default constant)
  --lr-decay F                 factor for step/exponential schedules, in (0, 1] (default 0.5)
  --lr-step-epochs N           epochs between step decays (default 2)
  --batch-size N               minibatch size (default 32)
  --epochs N                   total epochs; with a checkpoint, training resumes after the saved epoch (default 5)

Data
  --data-dir DIR               dataset directory (data.csv [+ meta.json], see README); default: bundled MNIST digits
  --seed N                     seed for the split, shuffling and weight init (default 42)
  --train-size N               use at most N training samples (default: all that are not held out)
  --val-fraction F             share of the data held out for validation, in (0, 1) (default 0.2)
  --val-size N                 use at most N validation samples
  --folds K --fold I           K-fold cross-validation: fold I (0-based) is the validation set

Runtime
  --backend NAME               auto|tfjs-node-gpu|tfjs-node|wasm|cpu (default auto: the fastest installed)
  --checkpoint-dir DIR         save weights after each epoch and resume from them on start
  --metrics-port N             serve Prometheus metrics on this port, 0 for any free one (default: off)
  --metrics-host HOST          address to bind (default $POD_IP if set, else 0.0.0.0)
  --metrics-linger-seconds F   keep serving this long after training (default 10)
  --fail-on-nan                exit 3 once the loss is NaN/Infinity (default: keep going and report it)
  -h, --help                   print this help
`;

const OPTIONS = {
  model: { type: 'string' },
  layers: { type: 'string' },
  units: { type: 'string' },
  filters: { type: 'string' },
  activation: { type: 'string' },
  dropout: { type: 'string' },
  optimizer: { type: 'string' },
  'learning-rate': { type: 'string' },
  lr: { type: 'string' },
  momentum: { type: 'string' },
  'weight-decay': { type: 'string' },
  'lr-schedule': { type: 'string' },
  'lr-decay': { type: 'string' },
  'lr-step-epochs': { type: 'string' },
  'batch-size': { type: 'string' },
  epochs: { type: 'string' },
  seed: { type: 'string' },
  'train-size': { type: 'string' },
  'val-fraction': { type: 'string' },
  'val-size': { type: 'string' },
  folds: { type: 'string' },
  fold: { type: 'string' },
  'data-dir': { type: 'string' },
  backend: { type: 'string' },
  'checkpoint-dir': { type: 'string' },
  'metrics-port': { type: 'string' },
  'metrics-host': { type: 'string' },
  'metrics-linger-seconds': { type: 'string' },
  'fail-on-nan': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Raw = Partial<Record<keyof typeof OPTIONS, string | boolean>>;

export type ParseResult = { help: true } | { help: false; config: TrainerConfig };

/** Parses argv (without node and script). Throws UsageError for anything a user got wrong. */
export function parseFlags(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ParseResult {
  let raw: Raw;
  try {
    raw = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: false, strict: true }).values;
  } catch (err) {
    throw new UsageError(describeParseError(err));
  }
  if (raw.help === true) return { help: true };

  const str = (name: keyof typeof OPTIONS): string | undefined => {
    const v = raw[name];
    return typeof v === 'string' ? v : undefined;
  };

  if (str('learning-rate') !== undefined && str('lr') !== undefined) {
    throw new UsageError('--lr and --learning-rate are the same flag; give only one');
  }
  const lrFlag = str('lr') !== undefined ? 'lr' : 'learning-rate';

  const folds = optionalInt(str('folds'), 'folds', 2);
  const fold = optionalInt(str('fold'), 'fold', 0);
  if ((folds === undefined) !== (fold === undefined)) {
    throw new UsageError('--folds and --fold go together: give both (e.g. --folds 5 --fold 0) or neither');
  }
  if (folds !== undefined && fold !== undefined && fold >= folds) {
    throw new UsageError(`--fold must be below --folds (0..${folds - 1}), got ${fold}`);
  }
  if (folds !== undefined && str('val-fraction') !== undefined) {
    throw new UsageError(
      '--val-fraction cannot be combined with --folds: the held-out fold is the validation set',
    );
  }

  const metricsHostDefault = env.POD_IP !== undefined && env.POD_IP !== '' ? env.POD_IP : '0.0.0.0';
  const metricsHost = str('metrics-host') ?? metricsHostDefault;
  if (metricsHost === '') throw new UsageError('--metrics-host must not be empty');

  const config: TrainerConfig = {
    model: oneOf(str('model'), 'model', MODELS, 'mlp'),
    layers: int(str('layers'), 'layers', 1, 1, 16),
    units: int(str('units'), 'units', 128, 1, 65536),
    filters: int(str('filters'), 'filters', 16, 1, 1024),
    activation: oneOf(str('activation'), 'activation', ACTIVATIONS, 'relu'),
    dropout: num(str('dropout'), 'dropout', 0.2, { min: 0, maxExclusive: 1, allowed: 'a number in [0, 1)' }),
    optimizer: oneOf(str('optimizer'), 'optimizer', OPTIMIZERS, 'adam'),
    learningRate: num(str(lrFlag), lrFlag, 0.001, { minExclusive: 0, allowed: 'a number > 0' }),
    momentum: num(str('momentum'), 'momentum', 0.9, {
      min: 0,
      maxExclusive: 1,
      allowed: 'a number in [0, 1)',
    }),
    weightDecay: num(str('weight-decay'), 'weight-decay', 0, { min: 0, allowed: 'a number >= 0' }),
    lrSchedule: oneOf(str('lr-schedule'), 'lr-schedule', LR_SCHEDULES, 'constant'),
    lrDecay: num(str('lr-decay'), 'lr-decay', 0.5, {
      minExclusive: 0,
      max: 1,
      allowed: 'a number in (0, 1]',
    }),
    lrStepEpochs: int(str('lr-step-epochs'), 'lr-step-epochs', 2, 1),
    batchSize: int(str('batch-size'), 'batch-size', 32, 1, 1 << 20),
    epochs: int(str('epochs'), 'epochs', 5, 1, 100000),
    seed: int(str('seed'), 'seed', 42, 0, 2 ** 31 - 1),
    trainSize: optionalInt(str('train-size'), 'train-size', 1),
    valFraction: num(str('val-fraction'), 'val-fraction', 0.2, {
      minExclusive: 0,
      maxExclusive: 1,
      allowed: 'a number in (0, 1)',
    }),
    valSize: optionalInt(str('val-size'), 'val-size', 1),
    folds,
    fold,
    dataDir: nonEmpty(str('data-dir'), 'data-dir'),
    backend: oneOf(str('backend'), 'backend', BACKENDS, 'auto'),
    checkpointDir: nonEmpty(str('checkpoint-dir'), 'checkpoint-dir'),
    metricsPort: optionalInt(str('metrics-port'), 'metrics-port', 0, 65535),
    metricsHost,
    metricsLingerSeconds: num(str('metrics-linger-seconds'), 'metrics-linger-seconds', 10, {
      min: 0,
      max: 3600,
      allowed: 'seconds in [0, 3600]',
    }),
    failOnNan: raw['fail-on-nan'] === true,
  };
  return { help: false, config };
}

function describeParseError(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: string }).code;
  const flag = /'(-[^']*)'/.exec(msg)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && flag !== undefined) {
    return `unknown flag ${flag.split('=')[0]}; run with --help to list the flags`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && flag !== undefined) {
    const name = flag.split(/[ ,]/)[0] ?? flag;
    if (/ambiguous/.test(msg)) {
      return `${name} needs a value; to pass one that starts with a dash write ${name}=VALUE`;
    }
    return /argument missing/.test(msg)
      ? `${name} needs a value`
      : `${name} takes no value (it is an on/off switch)`;
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    return `unexpected argument ${/'([^']*)'/.exec(msg)?.[1] ?? ''}; all settings are --flags (see --help)`;
  }
  return msg;
}

function oneOf<T extends string>(
  value: string | undefined,
  flag: string,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}; got '${value}'`);
}

function nonEmpty(value: string | undefined, flag: string): string | undefined {
  if (value === '') throw new UsageError(`--${flag} must not be empty`);
  return value;
}

function parseNumber(value: string, flag: string, what: string): number {
  // Number() accepts '', '0x10' and whitespace; require a plain decimal or scientific literal.
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value.trim())) {
    throw new UsageError(`--${flag} must be ${what}; got '${value}'`);
  }
  return Number(value);
}

interface NumRange {
  min?: number;
  max?: number;
  minExclusive?: number;
  maxExclusive?: number;
  allowed: string;
}

function num(value: string | undefined, flag: string, fallback: number, range: NumRange): number {
  if (value === undefined) return fallback;
  const n = parseNumber(value, flag, range.allowed);
  const bad =
    !Number.isFinite(n) ||
    (range.min !== undefined && n < range.min) ||
    (range.max !== undefined && n > range.max) ||
    (range.minExclusive !== undefined && n <= range.minExclusive) ||
    (range.maxExclusive !== undefined && n >= range.maxExclusive);
  if (bad) throw new UsageError(`--${flag} must be ${range.allowed}; got ${value}`);
  return n;
}

function int(value: string | undefined, flag: string, fallback: number, min: number, max?: number): number {
  return optionalInt(value, flag, min, max) ?? fallback;
}

function optionalInt(value: string | undefined, flag: string, min: number, max?: number): number | undefined {
  if (value === undefined) return undefined;
  const allowed = max === undefined ? `an integer >= ${min}` : `an integer in [${min}, ${max}]`;
  const n = parseNumber(value, flag, allowed);
  if (!Number.isInteger(n) || n < min || (max !== undefined && n > max)) {
    throw new UsageError(`--${flag} must be ${allowed}; got ${value}`);
  }
  return n;
}
