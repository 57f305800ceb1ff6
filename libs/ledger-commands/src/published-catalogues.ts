import { createHash } from 'node:crypto';
import { type Catalogue, type CatalogueDefinition, loadCatalogue, noticeVersionsOf, PublishedCatalogues, type RecordedLedgerEvent } from '@consent-ledger/domain';
import { canonicalJson, type EventStore, type StoredEvent } from '@consent-ledger/event-store';
import { nameBasedUuid } from './event-ids';

/**
 * Every catalogue a process has decided under, whole, in the tamper-evident log: years later a
 * receipt quotes the purposes as they were described to the person, and `verify` proves nobody
 * reworded them since. A file on disk would be replaced by the next deployment.
 */
export const PUBLISHED_CATALOGUES_STREAM = 'published-catalogues';
export const CATALOGUE_PUBLISHED = 'CataloguePublished';
const CATALOGUE_PUBLISHED_SCHEMA_VERSION = 1;

interface CataloguePublishedData {
  readonly reference: string;
  readonly catalogueVersion: string;
  readonly noticeVersion: string;
  readonly definition: CatalogueDefinition;
}

/**
 * `<catalogueVersion>#<first 16 hex digits of the SHA-256 of its canonical JSON>`. The version
 * label is the author's and may be left unchanged by an edit; the digest is not.
 */
export function catalogueReference(definition: CatalogueDefinition): string {
  return `${definition.catalogueVersion}#${createHash('sha256').update(canonicalJson(definition)).digest('hex').slice(0, 16)}`;
}

/**
 * Keeps the catalogue in the log unless it is there already, and returns it with its reference,
 * which the choices decided under it record. Processes starting together append the same event
 * id, so the store keeps one.
 */
export async function publishCatalogue(store: EventStore, catalogue: Catalogue): Promise<Catalogue> {
  const reference = catalogueReference(catalogue.definition);
  const published = await store.readStream(PUBLISHED_CATALOGUES_STREAM);
  if (!published.some((event) => (event.data as Partial<CataloguePublishedData>).reference === reference)) {
    const data: CataloguePublishedData = {
      reference,
      catalogueVersion: catalogue.definition.catalogueVersion,
      noticeVersion: catalogue.definition.noticeVersion,
      definition: catalogue.definition,
    };
    await store.append(
      PUBLISHED_CATALOGUES_STREAM,
      [{ eventId: nameBasedUuid(['catalogue-published', reference]), type: CATALOGUE_PUBLISHED, schemaVersion: CATALOGUE_PUBLISHED_SCHEMA_VERSION, data: { ...data } }],
      { expectedRevision: 'any' },
    );
  }
  return { ...catalogue, reference };
}

/**
 * The published catalogues receipts quote, read from the log once and again only when a history
 * names one published since (by a newer process in a rolling upgrade).
 */
export class CataloguesInTheLog {
  private known: Promise<CataloguesRead> | undefined;

  constructor(
    private readonly store: EventStore,
    readonly current: Catalogue,
  ) {}

  async for(history: readonly RecordedLedgerEvent[]): Promise<PublishedCatalogues> {
    const known = await this.read();
    // A catalogue in the log that this code cannot load is known too: reading the log again would
    // not make it loadable, and every receipt of its choices would read every catalogue again.
    const unknown = history.some(({ data: { capture } }) => capture.catalogue !== undefined && !known.references.has(capture.catalogue));
    if (!unknown) return known.shelf;
    this.known = undefined;
    return (await this.read()).shelf;
  }

  private read(): Promise<CataloguesRead> {
    this.known ??= readCataloguesInTheLog(this.store, this.current).catch((error: unknown) => {
      this.known = undefined;
      throw error;
    });
    return this.known;
  }
}

interface CataloguesRead {
  readonly shelf: PublishedCatalogues;
  /** Every reference the log holds, whether this code could load its catalogue or not. */
  readonly references: ReadonlySet<string>;
}

async function readCataloguesInTheLog(store: EventStore, current: Catalogue): Promise<CataloguesRead> {
  const references = new Set<string>(current.reference === undefined ? [] : [current.reference]);
  const published = publishedIn(await store.readStream(PUBLISHED_CATALOGUES_STREAM)).flatMap(({ data: { reference }, catalogue }) => {
    references.add(reference);
    // Without a catalogue (a format this version no longer reads), its receipts fall back to a
    // catalogue of the same notice, and say so in `termsFrom`.
    return catalogue ? [{ ...catalogue, reference }] : [];
  });
  return { shelf: new PublishedCatalogues(current, published), references };
}

/** The catalogues published in these events, each loaded when this version can read its format. */
function publishedIn(events: readonly StoredEvent[]): Array<{ readonly data: CataloguePublishedData; readonly catalogue?: Catalogue }> {
  return events.flatMap((event) => {
    if (event.type !== CATALOGUE_PUBLISHED) return [];
    const data = event.data as unknown as CataloguePublishedData;
    try {
      return [{ data, catalogue: loadCatalogue(data.definition) }];
    } catch {
      return [{ data }];
    }
  });
}

/**
 * The notice versions of every catalogue kept in the log: a deployment that moved to a new
 * catalogue still records late paperwork signed under the previous notice. Read once, then again
 * only for a command citing a notice not known yet, from where the last read ended: another
 * process may have published its catalogue since (a rolling upgrade), and a refusal is final.
 */
export class NoticesInTheLog {
  private readonly versions = new Set<string>();
  private nextRevision: number | undefined;
  private reading: Promise<ReadonlySet<string>> | undefined;

  constructor(private readonly store: EventStore) {}

  /** As last read; read first if never read. */
  async known(): Promise<ReadonlySet<string>> {
    return this.nextRevision === undefined ? this.readNew() : this.versions;
  }

  /** Reads what was published since the last read; commands asking together share one read. */
  readNew(): Promise<ReadonlySet<string>> {
    this.reading ??= this.readFromLog().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  private async readFromLog(): Promise<ReadonlySet<string>> {
    const published = await this.store.readStream(PUBLISHED_CATALOGUES_STREAM, { fromRevision: this.nextRevision ?? 0 });
    for (const { data, catalogue } of publishedIn(published)) {
      // A format this code no longer loads: its own notice is still one the operator published.
      for (const version of catalogue ? noticeVersionsOf(catalogue.definition) : [data.noticeVersion]) this.versions.add(version);
    }
    this.nextRevision = published.length > 0 ? published[published.length - 1].revision + 1 : (this.nextRevision ?? 0);
    return this.versions;
  }
}
