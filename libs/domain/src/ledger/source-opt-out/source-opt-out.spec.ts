import { given, optInSource, optOutSource, sourceOptedIn, sourceOptedOut } from '../../testing';

const PROFILING = 'customer-profiling-consent-based';

describe('opting out of a data source', () => {
  it('opts out of a source for every purpose', () =>
    given().when(optOutSource({ source: 'tv-viewing' })).then(sourceOptedOut({ source: 'tv-viewing' })));

  it('opts out of a source for one purpose', () =>
    given().when(optOutSource({ source: 'web-app-usage', purpose: PROFILING })).then(sourceOptedOut({ source: 'web-app-usage', purpose: PROFILING })));

  it('refuses a source the purpose does not use', () =>
    given().when(optOutSource({ source: 'network-location', purpose: PROFILING })).thenRejected('source-not-used-by-purpose'));

  it('records nothing new when already opted out', () =>
    given(sourceOptedOut({ source: 'tv-viewing' })).when(optOutSource({ source: 'tv-viewing', occurredAt: '2024-06-01T00:00:00Z' })).thenNothingHappened());

  it('opts back in', () =>
    given(sourceOptedOut({ source: 'tv-viewing' }))
      .when(optInSource({ source: 'tv-viewing', occurredAt: '2024-06-01T00:00:00Z' }))
      .then(sourceOptedIn({ source: 'tv-viewing', occurredAt: '2024-06-01T00:00:00Z' })));

  it('records nothing when opting in to a source never opted out of', () =>
    given().when(optInSource({ source: 'tv-viewing' })).thenNothingHappened());

  it('refuses to opt in for one purpose while opted out of the source for every purpose', () =>
    given(sourceOptedOut({ source: 'web-app-usage' }))
      .when(optInSource({ source: 'web-app-usage', purpose: PROFILING }))
      .thenRejected('in-force-at-another-scope'));

  it('refuses to opt in for every purpose when opted out only for some', () =>
    given(sourceOptedOut({ source: 'web-app-usage', purpose: PROFILING }))
      .when(optInSource({ source: 'web-app-usage' }))
      .thenRejected('in-force-at-another-scope'));
});
