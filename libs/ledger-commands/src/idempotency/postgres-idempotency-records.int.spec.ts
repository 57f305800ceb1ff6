import { createTestSchema, describeWithPostgres, type TestSchema } from '../../../../test/support/services';
import { idempotencyRecordsContract } from '../testing/idempotency-records.contract';
import { openPostgresIdempotencyRecords } from './postgres-idempotency-records';

describeWithPostgres('PostgreSQL idempotency records', () => {
  const schemas: TestSchema[] = [];
  afterAll(() => Promise.all(schemas.map((schema) => schema.drop())));

  idempotencyRecordsContract(async () => {
    const schema = await createTestSchema('cl_idem');
    schemas.push(schema);
    return openPostgresIdempotencyRecords({ url: schema.url });
  });
});
