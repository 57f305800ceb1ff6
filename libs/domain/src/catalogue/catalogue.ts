import { type Duration, isDuration, toInstant } from '../time';
import {
  AUDIENCES,
  type Audience,
  BRANDS,
  type Brand,
  CHANNELS,
  type Channel,
  DATA_SOURCES,
  type DataSource,
  ERASURE_EXCEPTIONS,
  type ErasureException,
  type Instant,
  isOneOf,
  LEGAL_BASES,
  type LegalBasis,
  OBJECTION_RULES,
  type ObjectionRule,
  type PurposeId,
} from '../vocabulary';

/**
 * The purpose catalogue: what the operator's privacy statement says it does with personal data.
 * It is data, loaded from a JSON file at the edge and validated here, so another operator can
 * bring its own statement without code changes.
 */

/** Purpose categories as a receipt names them (Kantara `purposeCategory`, DPV purpose types). */
export const PURPOSE_CATEGORIES = [
  'direct-marketing',
  'advertising',
  'profiling',
  'personalisation',
  'market-research',
  'analytics',
  'service-provision',
  'customer-management',
  'billing',
  'fraud-prevention',
  'security',
  'legal-compliance',
  'emergency-services',
  'dispute-management',
  'directory-services',
] as const;
export type PurposeCategory = (typeof PURPOSE_CATEGORIES)[number];

export const CONTROLLER_ROLES = ['controller', 'processor', 'separate-controller'] as const;
export type ControllerRole = (typeof CONTROLLER_ROLES)[number];

export interface PurposeDefinition {
  readonly id: PurposeId;
  /** Section of the privacy statement, e.g. `7.2.3.1`. */
  readonly section: string;
  readonly name: string;
  readonly description: string;
  readonly category: PurposeCategory;
  readonly legalBasis: LegalBasis;
  /** Further bases the statement names for part of the processing (e.g. contract and legal obligation). */
  readonly otherLegalBases: readonly LegalBasis[];
  /** False where the statement is silent and the basis is the catalogue author's reading (see `note`). */
  readonly legalBasisStated: boolean;
  readonly objection: ObjectionRule;
  readonly audience: readonly Audience[];
  readonly channels: readonly Channel[];
  readonly sources: readonly DataSource[];
  readonly excludedBrands: readonly Brand[];
  /** Why the purpose goes on after the subject's erasure, within its own window; absent: an erasure stops it. */
  readonly erasureException?: ErasureException;
  /** Consent purposes: how long a consent holds from when it was given (prospect consents: P3Y). */
  readonly consentValidity?: Duration;
  /**
   * Consent purposes: when the purpose's notice last changed in a way earlier consents did not
   * agree to (new data, recipients or uses). Consents given before it end then, with the reason
   * `notice-changed`, and the person is asked again. A reworded notice needs no date here.
   */
  readonly noticeChangedAt?: Instant;
  /**
   * With `noticeChangedAt`: the notice versions the change replaced. Then only consents given under
   * one of them end at the change (one given early under the new notice stands), and a consent
   * given from the change on under one of them is refused (`notice-outdated`: the channel still
   * shows the old notice). Without it every consent given before the change ends with it.
   */
  readonly replacedNoticeVersions?: readonly string[];
  /** Purposes that reach former customers: how long after the relationship ended (P5Y). */
  readonly formerCustomerWindow?: Duration;
  /** The consent purpose whose active consent reopens this purpose after the former-customer window. */
  readonly renewedBy?: PurposeId;
  /** Proof of a consent is kept for the consent's duration plus this (overrides the catalogue default). */
  readonly proofRetention?: Duration;
  /** Retention of the data itself, as the statement words it. */
  readonly retention: string;
  readonly recipients: readonly string[];
  /** Ids of `jointControllers` entries of the catalogue that decide this processing with the operator. */
  readonly jointControllers: readonly string[];
  /** How the subject objects or withdraws, as the statement words it. */
  readonly withdrawal: string;
  readonly role: ControllerRole;
  readonly note?: string;
  /** Where the statement says it (line numbers of the source text). */
  readonly lines: string;
}

export interface PurposeGroupDefinition {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly objection: ObjectionRule;
  readonly members: readonly PurposeId[];
}

export interface Party {
  readonly id: string;
  readonly name: string;
  readonly address: string;
  readonly contact: string;
}

export interface CatalogueDefinition {
  readonly catalogueVersion: string;
  /** Version of the privacy notice the catalogue was read from (e.g. its publication date). */
  readonly noticeVersion: string;
  /**
   * Notices the operator published before `noticeVersion`, as channels send them. A consent
   * migrated from before the ledger, or keyed in late from a paper form, may cite one; a notice
   * that is neither one of these, nor replaced by a purpose's change, nor the notice of a catalogue
   * the ledger has run on, was never published, and a command citing it is refused.
   */
  readonly earlierNoticeVersions?: readonly string[];
  readonly jurisdiction: string;
  readonly controller: Party;
  readonly jointControllers: readonly Party[];
  /** Proof of consent is kept for the consent's duration plus this (GDPR prescription period: P5Y). */
  readonly proofRetention: Duration;
  readonly groups: readonly PurposeGroupDefinition[];
  readonly purposes: readonly PurposeDefinition[];
}

/** A validated catalogue with lookups. */
export interface Catalogue {
  readonly definition: CatalogueDefinition;
  readonly purposes: ReadonlyMap<PurposeId, PurposeDefinition>;
  readonly groups: ReadonlyMap<string, PurposeGroupDefinition>;
  /** Groups each purpose belongs to, so an objection to a group reaches its members. */
  readonly groupsOf: ReadonlyMap<PurposeId, readonly string[]>;
  /**
   * Which published catalogue this is, `<catalogueVersion>#<digest of its content>`, once it is
   * kept in the log (the edge publishes it before deciding anything). Choices decided under it
   * record it. The digest tells apart two files that kept the same version label.
   */
  readonly reference?: string;
}

export interface CatalogueProblem {
  readonly path: string;
  readonly message: string;
}

export class CatalogueInvalid extends Error {
  constructor(readonly problems: readonly CatalogueProblem[]) {
    super(
      `the purpose catalogue is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  ${p.path}: ${p.message}`).join('\n'),
    );
    this.name = 'CatalogueInvalid';
  }
}

/** Validates a parsed JSON value and returns the catalogue, or throws CatalogueInvalid listing every problem. */
export function loadCatalogue(json: unknown): Catalogue {
  const problems: CatalogueProblem[] = [];
  const check = new Checker(problems);
  const root = check.object(json, '$');
  if (!root) throw new CatalogueInvalid(problems);

  check.text(root, 'catalogueVersion', '$');
  check.text(root, 'noticeVersion', '$');
  if (root.earlierNoticeVersions !== undefined) {
    const versions = check.texts(root, 'earlierNoticeVersions', '$');
    for (const version of versions) check.noticeVersion(version, '$.earlierNoticeVersions', root.noticeVersion);
    if (new Set(versions).size !== versions.length) check.fail('$.earlierNoticeVersions', 'must not repeat a version');
  }
  check.text(root, 'jurisdiction', '$');
  check.party(root.controller, '$.controller');
  const jointControllers = check.list(root, 'jointControllers', '$');
  jointControllers.forEach((party, i) => check.party(party, `$.jointControllers[${i}]`));
  const partyIds = new Set(jointControllers.map((p) => (p as { id?: unknown }).id));
  if (!isDuration(root.proofRetention)) check.fail('$.proofRetention', 'must be an ISO-8601 duration such as P5Y');

  const purposes = check.list(root, 'purposes', '$');
  const ids = new Map<string, number>();
  purposes.forEach((raw, i) => {
    const at = `$.purposes[${i}]`;
    const purpose = check.object(raw, at);
    if (!purpose) return;
    const id = check.text(purpose, 'id', at);
    if (id !== undefined) {
      if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(id)) check.fail(`${at}.id`, 'must be lower-case words joined by hyphens');
      if (ids.has(id)) check.fail(`${at}.id`, `duplicate id "${id}" (first at $.purposes[${ids.get(id)}])`);
      ids.set(id, i);
    }
    for (const field of ['section', 'name', 'description', 'retention', 'withdrawal', 'lines'] as const) {
      check.text(purpose, field, at);
    }
    check.oneOf(purpose, 'category', PURPOSE_CATEGORIES, at);
    check.oneOf(purpose, 'legalBasis', LEGAL_BASES, at);
    check.listOf(purpose, 'otherLegalBases', LEGAL_BASES, at);
    if (typeof purpose.legalBasisStated !== 'boolean') check.fail(`${at}.legalBasisStated`, 'must be true or false');
    check.oneOf(purpose, 'objection', OBJECTION_RULES, at);
    check.listOf(purpose, 'audience', AUDIENCES, at, { nonEmpty: true });
    check.listOf(purpose, 'channels', CHANNELS, at);
    check.listOf(purpose, 'sources', DATA_SOURCES, at);
    check.listOf(purpose, 'excludedBrands', BRANDS, at);
    check.oneOf(purpose, 'role', CONTROLLER_ROLES, at);
    check.texts(purpose, 'recipients', at);
    for (const partyId of check.texts(purpose, 'jointControllers', at)) {
      if (!partyIds.has(partyId)) check.fail(`${at}.jointControllers`, `"${partyId}" is not in $.jointControllers`);
    }
    for (const field of ['consentValidity', 'formerCustomerWindow', 'proofRetention'] as const) {
      if (purpose[field] !== undefined && !isDuration(purpose[field])) {
        check.fail(`${at}.${field}`, 'must be an ISO-8601 duration such as P3Y');
      }
    }
    if (purpose.noticeChangedAt !== undefined && (typeof purpose.noticeChangedAt !== 'string' || toInstant(purpose.noticeChangedAt) !== purpose.noticeChangedAt)) {
      // Instants are compared as text: only the one spelling of an instant compares right.
      check.fail(`${at}.noticeChangedAt`, 'must be an instant written as 2026-12-01T00:00:00.000Z');
    }
    if (purpose.replacedNoticeVersions !== undefined) {
      const versions = check.texts(purpose, 'replacedNoticeVersions', at);
      // An empty list would replace nothing: every consent before the change would stand.
      if (Array.isArray(purpose.replacedNoticeVersions) && purpose.replacedNoticeVersions.length === 0) {
        check.fail(`${at}.replacedNoticeVersions`, 'must list at least one version (leave it out to end every consent given before the change)');
      }
      for (const version of versions) check.noticeVersion(version, `${at}.replacedNoticeVersions`, root.noticeVersion);
      if (purpose.noticeChangedAt === undefined) check.fail(`${at}.replacedNoticeVersions`, 'only makes sense with a noticeChangedAt');
    }
    if (purpose.note !== undefined && typeof purpose.note !== 'string') check.fail(`${at}.note`, 'must be text');
    if (purpose.erasureException !== undefined) check.oneOf(purpose, 'erasureException', ERASURE_EXCEPTIONS, at);
    checkRules(purpose, at, check);
  });

  purposes.forEach((raw, i) => {
    const purpose = raw as { renewedBy?: unknown; formerCustomerWindow?: unknown };
    if (purpose.renewedBy === undefined) return;
    const at = `$.purposes[${i}].renewedBy`;
    const renewal = typeof purpose.renewedBy === 'string' ? purposes[ids.get(purpose.renewedBy) ?? -1] : undefined;
    if (!renewal) check.fail(at, `"${String(purpose.renewedBy)}" is not a purpose of this catalogue`);
    else if ((renewal as { legalBasis?: unknown }).legalBasis !== 'consent') check.fail(at, 'must name a consent-based purpose');
    if (purpose.formerCustomerWindow === undefined) check.fail(at, 'only makes sense with a formerCustomerWindow');
  });

  const groups = check.list(root, 'groups', '$');
  const groupIds = new Set<string>();
  groups.forEach((raw, i) => {
    const at = `$.groups[${i}]`;
    const group = check.object(raw, at);
    if (!group) return;
    const id = check.text(group, 'id', at);
    if (id !== undefined && (ids.has(id) || groupIds.has(id))) check.fail(`${at}.id`, `"${id}" is already a purpose or group id`);
    if (id !== undefined) groupIds.add(id);
    check.text(group, 'name', at);
    check.text(group, 'description', at);
    check.oneOf(group, 'objection', OBJECTION_RULES, at);
    const members = check.texts(group, 'members', at);
    if (members.length === 0) check.fail(`${at}.members`, 'must list at least one purpose');
    for (const member of members) {
      if (!ids.has(member)) check.fail(`${at}.members`, `"${member}" is not a purpose of this catalogue`);
    }
  });

  if (problems.length > 0) throw new CatalogueInvalid(problems);

  const definition = json as CatalogueDefinition;
  const groupsOf = new Map<PurposeId, string[]>();
  for (const group of definition.groups) {
    for (const member of group.members) groupsOf.set(member, [...(groupsOf.get(member) ?? []), group.id]);
  }
  return {
    definition,
    purposes: new Map(definition.purposes.map((p) => [p.id, p])),
    groups: new Map(definition.groups.map((g) => [g.id, g])),
    groupsOf,
  };
}

/** Rules that tie fields together, so a catalogue cannot promise what the law does not allow. */
function checkRules(purpose: Record<string, unknown>, at: string, check: Checker): void {
  const basis = purpose.legalBasis;
  if ((basis === 'legal-obligation' || basis === 'contract' || basis === 'vital-interest') && purpose.objection !== 'none') {
    check.fail(`${at}.objection`, `must be "none": processing based on ${String(basis)} cannot be objected to`);
  }
  if (basis === 'legitimate-interest' && purpose.objection === 'none' && purpose.legalBasisStated === true) {
    check.fail(`${at}.objection`, 'legitimate-interest processing can always be objected to (GDPR art. 21)');
  }
  if (purpose.consentValidity !== undefined && basis !== 'consent') {
    check.fail(`${at}.consentValidity`, 'only consent-based purposes have a consent validity');
  }
  if (purpose.noticeChangedAt !== undefined && basis !== 'consent') {
    check.fail(`${at}.noticeChangedAt`, 'only consent-based purposes ask for consent again when their notice changes');
  }
  const audience = Array.isArray(purpose.audience) ? purpose.audience : [];
  if (purpose.formerCustomerWindow !== undefined && !audience.includes('former-customer')) {
    check.fail(`${at}.formerCustomerWindow`, 'needs "former-customer" in the audience');
  }
}

class Checker {
  constructor(private readonly problems: CatalogueProblem[]) {}

  fail(path: string, message: string): void {
    this.problems.push({ path, message });
  }

  object(value: unknown, path: string): Record<string, unknown> | undefined {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
    this.fail(path, 'must be an object');
    return undefined;
  }

  text(parent: Record<string, unknown>, field: string, at: string): string | undefined {
    const value = parent[field];
    if (typeof value === 'string' && value.trim() !== '') return value;
    this.fail(`${at}.${field}`, 'must be non-empty text');
    return undefined;
  }

  list(parent: Record<string, unknown>, field: string, at: string): unknown[] {
    const value = parent[field];
    if (Array.isArray(value)) return value;
    this.fail(`${at}.${field}`, 'must be a list');
    return [];
  }

  texts(parent: Record<string, unknown>, field: string, at: string): string[] {
    const values = this.list(parent, field, at);
    values.forEach((value, i) => {
      if (typeof value !== 'string') this.fail(`${at}.${field}[${i}]`, 'must be text');
    });
    return values.filter((value): value is string => typeof value === 'string');
  }

  oneOf<T extends string>(parent: Record<string, unknown>, field: string, allowed: readonly T[], at: string): void {
    if (!isOneOf(allowed)(parent[field])) {
      this.fail(`${at}.${field}`, `must be one of ${allowed.join(', ')} (got ${JSON.stringify(parent[field])})`);
    }
  }

  listOf<T extends string>(
    parent: Record<string, unknown>,
    field: string,
    allowed: readonly T[],
    at: string,
    options: { nonEmpty?: boolean } = {},
  ): void {
    const values = this.list(parent, field, at);
    if (options.nonEmpty && values.length === 0) this.fail(`${at}.${field}`, 'must not be empty');
    values.forEach((value, i) => {
      if (!isOneOf(allowed)(value)) {
        this.fail(`${at}.${field}[${i}]`, `must be one of ${allowed.join(', ')} (got ${JSON.stringify(value)})`);
      }
    });
    if (new Set(values).size !== values.length) this.fail(`${at}.${field}`, 'must not repeat a value');
  }

  /** A notice version other than the catalogue's own, written as channels send it. */
  noticeVersion(version: string, at: string, own: unknown): void {
    if (version.trim() === '') this.fail(at, 'must name versions, not empty text');
    else if (version.trim() !== version) this.fail(at, `must name versions as channels send them, without spaces around (got ${JSON.stringify(version)})`);
    else if (version === own) this.fail(at, `"${version}" is the catalogue's own notice (noticeVersion)`);
  }

  party(value: unknown, at: string): void {
    const party = this.object(value, at);
    if (!party) return;
    for (const field of ['id', 'name', 'address', 'contact']) this.text(party, field, at);
  }
}

/**
 * Every notice version the catalogue says the operator published: its own, the earlier ones it
 * lists, and those a purpose's notice change replaced.
 */
export function noticeVersionsOf(definition: CatalogueDefinition): ReadonlySet<string> {
  let versions = noticeVersionsByCatalogue.get(definition);
  if (versions === undefined) {
    versions = new Set([
      definition.noticeVersion,
      ...(definition.earlierNoticeVersions ?? []),
      ...definition.purposes.flatMap((purpose) => purpose.replacedNoticeVersions ?? []),
    ]);
    // Every command asks: a catalogue's 71 purposes are read once, not per command.
    noticeVersionsByCatalogue.set(definition, versions);
  }
  return versions;
}
const noticeVersionsByCatalogue = new WeakMap<CatalogueDefinition, ReadonlySet<string>>();

export const purposeOf = (catalogue: Catalogue, id: PurposeId): PurposeDefinition | undefined => catalogue.purposes.get(id);

// Channel restrictions and source opt-outs are the subject's say over marketing and profiling;
// an SMS restriction must not stop an invoice sent by SMS under the contract. The decisions, the
// commands that record such choices and their receipts all go by these two rules.
export const subjectHasASay = (purpose: PurposeDefinition): boolean => purpose.objection !== 'none';

/**
 * Whether a channel restricted for every purpose (no purpose named) stops `purpose`: marketing,
 * the purposes a group objection reaches without justification (direct marketing, GDPR art.
 * 21(2)), as the statement ties the choice of channels to how marketing may reach the person
 * (§11.1.4). Service messages about the app and invoices, and invitations to market research, may
 * be refused at will too but are not marketing: they go on, and a restriction naming them stops them.
 */
export const isStoppedByGeneralRestriction = (purpose: PurposeDefinition, catalogue: Catalogue): boolean =>
  purpose.objection === 'free' && (catalogue.groupsOf.get(purpose.id) ?? []).some((group) => catalogue.groups.get(group)?.objection === 'free');

/** Purposes an objection to `target` (a purpose or a group id) reaches. */
export function purposesReachedBy(catalogue: Catalogue, target: string): readonly PurposeId[] {
  return catalogue.groups.get(target)?.members ?? (catalogue.purposes.has(target) ? [target] : []);
}
