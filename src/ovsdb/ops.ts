// Typed OVSDB transaction operations (RFC 7047 §5.2) and their results.
import type { Datum } from './data.js';

/** `[column, function, value]`, RFC 7047 §5.1 <condition>. `_uuid` is a column here too. */
export type ConditionFunction = '<' | '<=' | '==' | '!=' | '>=' | '>' | 'includes' | 'excludes';
export type Condition = readonly [column: string, fn: ConditionFunction, value: Datum];

/** `[column, mutator, value]`, RFC 7047 §5.1 <mutation>. */
export type Mutator = '+=' | '-=' | '*=' | '/=' | '%=' | 'insert' | 'delete';
export type Mutation = readonly [column: string, mutator: Mutator, value: Datum];

export type Row = Record<string, Datum>;

export interface InsertOp {
  op: 'insert';
  table: string;
  row: Row;
  /** Lets later operations refer to the new row as `namedUuid(uuidName)`. */
  'uuid-name'?: string;
  /** Request a specific uuid for the new row (OVS extension, ovsdb-server 2.13+). */
  uuid?: string;
}
export interface SelectOp {
  op: 'select';
  table: string;
  where: readonly Condition[];
  columns?: readonly string[];
}
export interface UpdateOp {
  op: 'update';
  table: string;
  where: readonly Condition[];
  row: Row;
}
export interface MutateOp {
  op: 'mutate';
  table: string;
  where: readonly Condition[];
  mutations: readonly Mutation[];
}
export interface DeleteOp {
  op: 'delete';
  table: string;
  where: readonly Condition[];
}
export interface WaitOp {
  op: 'wait';
  table: string;
  where: readonly Condition[];
  columns: readonly string[];
  until: '==' | '!=';
  rows: readonly Row[];
  /** Milliseconds; absent means wait forever (until cancelled). 0 = check once. */
  timeout?: number;
}
export interface CommitOp {
  op: 'commit';
  durable: boolean;
}
export interface AbortOp {
  op: 'abort';
}
export interface CommentOp {
  op: 'comment';
  comment: string;
}
export interface AssertOp {
  op: 'assert';
  lock: string;
}

export type Operation =
  | InsertOp
  | SelectOp
  | UpdateOp
  | MutateOp
  | DeleteOp
  | WaitOp
  | CommitOp
  | AbortOp
  | CommentOp
  | AssertOp;

/** Per-operation results, decoded: uuids as strings, selected rows as wire rows. */
export type OpResult =
  | { op: 'insert'; uuid: string }
  | { op: 'select'; rows: Array<Record<string, unknown>> }
  | { op: 'update' | 'mutate' | 'delete'; count: number }
  | { op: 'wait' | 'commit' | 'abort' | 'comment' | 'assert' };

// Small builders: they keep call sites short and typed.
export const op = {
  insert: (table: string, row: Row, uuidName?: string): InsertOp =>
    uuidName === undefined ? { op: 'insert', table, row } : { op: 'insert', table, row, 'uuid-name': uuidName },
  select: (table: string, where: readonly Condition[] = [], columns?: readonly string[]): SelectOp =>
    columns ? { op: 'select', table, where, columns } : { op: 'select', table, where },
  update: (table: string, where: readonly Condition[], row: Row): UpdateOp => ({ op: 'update', table, where, row }),
  mutate: (table: string, where: readonly Condition[], mutations: readonly Mutation[]): MutateOp => ({
    op: 'mutate',
    table,
    where,
    mutations,
  }),
  delete: (table: string, where: readonly Condition[]): DeleteOp => ({ op: 'delete', table, where }),
  wait: (
    table: string,
    where: readonly Condition[],
    columns: readonly string[],
    until: '==' | '!=',
    rows: readonly Row[],
    timeout?: number,
  ): WaitOp =>
    timeout === undefined
      ? { op: 'wait', table, where, columns, until, rows }
      : { op: 'wait', table, where, columns, until, rows, timeout },
  commit: (durable: boolean): CommitOp => ({ op: 'commit', durable }),
  abort: (): AbortOp => ({ op: 'abort' }),
  comment: (comment: string): CommentOp => ({ op: 'comment', comment }),
  assert: (lock: string): AssertOp => ({ op: 'assert', lock }),
};

/** Condition builders. */
export const where = {
  eq: (column: string, value: Datum): Condition => [column, '==', value],
  ne: (column: string, value: Datum): Condition => [column, '!=', value],
  includes: (column: string, value: Datum): Condition => [column, 'includes', value],
  excludes: (column: string, value: Datum): Condition => [column, 'excludes', value],
};
