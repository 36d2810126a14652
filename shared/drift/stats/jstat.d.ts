// Minimal typings for the parts of jstat 1.9 that ctloop uses (the package ships none).
declare module 'jstat' {
  export const jStat: {
    gammaln(x: number): number;
    lowRegGamma(a: number, x: number): number;
    chisquare: { cdf(x: number, dof: number): number };
    normal: { cdf(x: number, mean: number, std: number): number };
  };
}
