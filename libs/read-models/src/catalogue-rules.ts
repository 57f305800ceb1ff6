import { createHash } from 'node:crypto';
import type { Catalogue } from '@consent-ledger/domain';
import { canonicalJson } from '@consent-ledger/event-store';
import type { CatalogueRules } from './storage/read-model-storage';

/**
 * The version of this code's own rules of decision: raised with every read-model migration that
 * decides differently (migration 16 is the latest). It is part of the digest, so read models that
 * a newer version rebuilt are never written to by an older one still running in a rolling upgrade,
 * and an older one's rebuild is done again once a newer one keeps them.
 */
export const DECISION_RULES_VERSION = 16;

/**
 * The catalogue as far as decisions go: everything but its wording (names, descriptions, how to
 * withdraw, the statement's lines, recipients named in prose, the controller's address) and its
 * version labels. A reworded description must not rebuild millions of rows and republish every
 * subject; a changed channel, audience, basis, window or group must, whether or not the
 * author remembered to bump `catalogueVersion`. Anything not listed here as wording counts.
 */
export function catalogueRulesOf(catalogue: Catalogue, decisionRules: number = DECISION_RULES_VERSION): CatalogueRules {
  const { catalogueVersion, noticeVersion: _notice, earlierNoticeVersions: _earlierNotices, controller: _controller, jointControllers: _parties, groups, purposes, ...rest } = catalogue.definition;
  const rules = {
    decisionRules,
    ...rest,
    groups: groups.map(({ name: _name, description: _description, ...group }) => group),
    purposes: purposes.map(
      ({ name: _name, description: _description, section: _section, lines: _lines, note: _note, retention: _retention, recipients: _recipients, withdrawal: _withdrawal, legalBasisStated: _stated, ...purpose }) =>
        purpose,
    ),
  };
  return { version: catalogueVersion, digest: createHash('sha256').update(canonicalJson(rules)).digest('hex') };
}
