import { catalogue } from '@consent-ledger/domain/testing';
import { openPostgresEventStore } from '@consent-ledger/event-store';
import { createTestSchema, describeWithPostgres, withClient } from '../../../../../test/support/services';
import { ProjectedReadModels } from '../../read-models';
import { runReadModelsContract } from '../../testing/read-models.contract';
import { PostgresReadModelStorage } from './postgres-read-model-storage';

describeWithPostgres('read models in PostgreSQL', () => {
  runReadModelsContract(async () => {
    const schema = await createTestSchema('cl_read_models');
    const store = await openPostgresEventStore({ url: schema.url, poolSize: 2 });
    const storage = await PostgresReadModelStorage.open({ url: schema.url, poolSize: 3 });
    const others: PostgresReadModelStorage[] = [];
    const readModels = new ProjectedReadModels({ storage, catalogue, store });
    const sql = async (text: string) => {
      await withClient(schema.url, (client) => client.query(text));
    };
    return {
      store,
      readModels,
      async openAnother() {
        const other = await PostgresReadModelStorage.open({ url: schema.url, poolSize: 2 });
        others.push(other);
        return other;
      },
      async crashBeforeCommit() {
        await sql(`CREATE FUNCTION simulated_crash() RETURNS trigger LANGUAGE plpgsql AS $$
                   BEGIN RAISE EXCEPTION 'simulated crash before commit'; END $$;
                   CREATE TRIGGER simulated_crash BEFORE UPDATE ON rm_checkpoints FOR EACH ROW
                   WHEN (NEW.name = 'read-models') EXECUTE FUNCTION simulated_crash()`);
      },
      async recover() {
        await sql('DROP TRIGGER simulated_crash ON rm_checkpoints; DROP FUNCTION simulated_crash()');
      },
      async dispose() {
        await readModels.close();
        await Promise.all(others.map((other) => other.close()));
        await storage.close();
        await store.close();
        await schema.drop();
      },
    };
  });
});
