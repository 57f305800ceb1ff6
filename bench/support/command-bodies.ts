// Shared by the benchmarks; not run on its own.

/** The command every HTTP benchmark sends: a consent to Pickx TV ads, given on the decoder. */
export function giveConsentBody(subjectId: string): string {
  return JSON.stringify({
    type: 'GiveConsent',
    subjectId,
    purpose: 'targeted-tv-advertising-pickx',
    channels: ['tv-screen'],
    capture: { touchpoint: 'tv-menu', actor: { kind: 'subject' }, noticeVersion: '2024-02-27', locale: 'fr-BE' },
  });
}
