import { runPersonalDataVaultContract } from '../personal-data-vault.contract';
import { InMemoryVault } from './in-memory-vault';

describe('in-memory personal-data vault', () => {
  runPersonalDataVaultContract({
    async open() {
      const vault = new InMemoryVault();
      return { vault, dispose: () => vault.close() };
    },
  });
});
