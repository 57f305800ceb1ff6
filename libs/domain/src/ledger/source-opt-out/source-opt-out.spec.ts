import { given, optInSource, optOutSource, sourceOptedIn, sourceOptedOut } from '../../testing';

const PROFILING = 'customer-profiling-consent-based';

describe('opting out of a data source', () => {
  it('opts out of a source for every purpose', () =>
    given().when(optOutSource({ source: 'tv-viewing' })).then(sourceOptedOut({ source: 'tv-viewing' })));

  it('opts out of a source for one purpose', () =>
    given().when(optOutSource({ source: 'web-app-usage', purpose: PROFILING })).then(sourceOptedOut({ source: 'web-app-usage', purpose: PROFILING })));

  it('refuses a source the purpose does not use', () =>
    given().when(optOutSource({ source: 'network-location', purpose: PROFILING })).thenRejected('source-not-used-by-purpose'));

  it('records nothing new when opted out from the same instant', () =>
    given(sourceOptedOut({ source: 'tv-viewing', occurredAt: '2024-06-01T00:00:00Z' })).when(optOutSource({ source: 'tv-viewing', occurredAt: '2024-06-01T00:00:00Z' })).thenNothingHappened());

  it('records an opt-out made before a later one that arrived first, for the days between', () =>
    given(sourceOptedOut({ source: 'tv-viewing', occurredAt: '2024-06-01T00:00:00Z' }))
      .when(optOutSource({ source: 'tv-viewing', occurredAt: '2024-05-20T00:00:00Z' }))
      .then(sourceOptedOut({ source: 'tv-viewing', occurredAt: '2024-05-20T00:00:00Z' })));

  it('records an opt-out made again later, as the person\'s latest word', () =>
    given(sourceOptedOut({ source: 'tv-viewing' }))
      .when(optOutSource({ source: 'tv-viewing', occurredAt: '2024-06-01T00:00:00Z' }))
      .then(sourceOptedOut({ source: 'tv-viewing', occurredAt: '2024-06-01T00:00:00Z' })));

  it('opts back in', () =>
    given(sourceOptedOut({ source: 'tv-viewing' }))
      .when(optInSource({ source: 'tv-viewing', occurredAt: '2024-06-01T00:00:00Z' }))
      .then(sourceOptedIn({ source: 'tv-viewing', occurredAt: '2024-06-01T00:00:00Z' })));

  it('records an opt-in to a source never opted out of: an opt-out made earlier may still arrive', () =>
    given().when(optInSource({ source: 'tv-viewing' })).then(sourceOptedIn({ source: 'tv-viewing' })));

  it('refuses to opt in for one purpose while opted out of the source for every purpose', () =>
    given(sourceOptedOut({ source: 'web-app-usage' }))
      .when(optInSource({ source: 'web-app-usage', purpose: PROFILING }))
      .thenRejected('in-force-at-another-scope'));

  it('refuses to opt in for every purpose when opted out only for some', () =>
    given(sourceOptedOut({ source: 'web-app-usage', purpose: PROFILING }))
      .when(optInSource({ source: 'web-app-usage' }))
      .thenRejected('in-force-at-another-scope'));
});
