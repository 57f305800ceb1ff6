import { idempotencyRecordsContract } from '../testing/idempotency-records.contract';
import { InMemoryIdempotencyRecords } from './in-memory-idempotency-records';

describe('in-memory idempotency records', () => idempotencyRecordsContract(async () => new InMemoryIdempotencyRecords()));
