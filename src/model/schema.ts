// JSON Schema builders for the declarations, typed with TypeBox's types so that Static<> derives the document
// types from them. Only TypeBox's types are used (erased at build): nothing validates with these schemas at run
// time, and loading TypeBox itself cost every agent 1,400 modules and ~19 MiB of RSS for schemas it never reads.
import type {
  TArray,
  TBoolean,
  TEnum,
  TEnumValue,
  TInteger,
  TNull,
  TObject,
  TProperties,
  TSchema,
  TString,
  TUnion,
  TUnsafe,
} from 'typebox';

type Options = Record<string, unknown>;

export const Type = {
  String: (o: Options = {}) => ({ type: 'string', ...o }) as unknown as TString,
  Integer: (o: Options = {}) => ({ type: 'integer', ...o }) as unknown as TInteger,
  Boolean: () => ({ type: 'boolean' }) as unknown as TBoolean,
  Null: () => ({ type: 'null' }) as unknown as TNull,
  Array: <T extends TSchema>(items: T, o: Options = {}) => ({ type: 'array', items, ...o }) as unknown as TArray<T>,
  Object: <P extends TProperties>(properties: P) =>
    ({ type: 'object', properties, required: Object.keys(properties) }) as unknown as TObject<P>,
  Enum: <V extends TEnumValue[]>(values: readonly [...V]) => ({ enum: [...values] }) as unknown as TEnum<V>,
  Union: <T extends TSchema[]>(anyOf: [...T]) => ({ anyOf }) as unknown as TUnion<T>,
  /** A schema whose static type is given rather than derived (the document of a field set). */
  Unsafe: <T>(schema: TSchema) => schema as unknown as TUnsafe<T>,
};
