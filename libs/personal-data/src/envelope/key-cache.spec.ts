import { KeyCache } from './key-cache';

const key = (keyId: string) => ({ keyId, key: Buffer.alloc(32) });

describe('the cache of unwrapped keys', () => {
  it('forgets the least recently used key when full', () => {
    const cache = new KeyCache({ maxEntries: 2 });
    cache.set('a', key('a'));
    cache.set('b', key('b'));
    cache.get('a');
    cache.set('c', key('c'));
    expect([cache.get('a')?.keyId, cache.get('b')?.keyId, cache.get('c')?.keyId]).toEqual(['a', undefined, 'c']);
  });

  it('forgets a key after its time to live, so a destroy by another process is obeyed', () => {
    let now = 1_000;
    const cache = new KeyCache({ ttlMs: 500, now: () => now });
    cache.set('a', key('a'));
    now += 499;
    expect(cache.get('a')?.keyId).toBe('a');
    now += 1;
    expect(cache.get('a')).toBeUndefined();
  });
});
