export * from './arbitraries';
export * from './builders';
export * from './given-when-then';
