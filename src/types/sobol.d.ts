declare module 'sobol' {
  export class SobolSequenceGenerator {
    constructor(dimension: number);
    /** The first call returns the origin. */
    nextVector(): number[];
  }
}
