export * from './read-models.port';
