import { getMetadataStorage } from 'class-validator';

type MetadataStorage = ReturnType<typeof getMetadataStorage>;
type ValidationMetadata = ReturnType<MetadataStorage['getTargetValidationMetadatas']>[number];

/**
 * class-validator looks up a class's rules afresh on every `validateSync`: it filters every rule
 * registered for the class and tests the class against every other validated class for
 * inheritance, then groups the rules by property. Measured in the API, that lookup was ~7% of a
 * command's CPU, for an answer that cannot change once the classes are defined (decorators run
 * when a class is defined, before any instance of it exists). So the answers are kept per class,
 * frozen, since class-validator only reads them.
 *
 * Validation with groups is not used here, and is passed through unchanged.
 */
export function rememberValidationRules(storage: MetadataStorage = getMetadataStorage()): void {
  if (remembering.has(storage)) return;
  remembering.add(storage);

  const rulesOf = storage.getTargetValidationMetadatas.bind(storage);
  const rulesByClass = new Map<unknown, Map<string, ValidationMetadata[]>>();
  storage.getTargetValidationMetadatas = (targetConstructor, targetSchema, always, strictGroups, groups) => {
    if (groups && groups.length > 0) return rulesOf(targetConstructor, targetSchema, always, strictGroups, groups);
    let byOptions = rulesByClass.get(targetConstructor);
    if (!byOptions) rulesByClass.set(targetConstructor, (byOptions = new Map()));
    const options = `${targetSchema}\u0000${always}\u0000${strictGroups}`;
    let rules = byOptions.get(options);
    if (!rules) byOptions.set(options, (rules = Object.freeze(rulesOf(targetConstructor, targetSchema, always, strictGroups, groups)) as ValidationMetadata[]));
    return rules;
  };

  const groupByProperty = storage.groupByPropertyName.bind(storage);
  const groupedByRules = new WeakMap<ValidationMetadata[], { [propertyName: string]: ValidationMetadata[] }>();
  storage.groupByPropertyName = (rules) => {
    if (!Object.isFrozen(rules)) return groupByProperty(rules);
    let grouped = groupedByRules.get(rules);
    if (!grouped) groupedByRules.set(rules, (grouped = Object.freeze(groupByProperty(rules))));
    return grouped;
  };
}

const remembering = new WeakSet<MetadataStorage>();
