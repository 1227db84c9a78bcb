// OVSDB data encodings (RFC 7047 §5.1): atoms, uuid, named-uuid, set and map, typed both ways.
import { OvsdbProtocolError } from './errors.js';

/** A row reference: wire form `["uuid", "<36 chars>"]`. */
export class Uuid {
  constructor(readonly uuid: string) {}
  toJSON(): ['uuid', string] {
    return ['uuid', this.uuid];
  }
}

/** A reference to a row inserted earlier in the same transaction: `["named-uuid", "<id>"]`. */
export class NamedUuid {
  constructor(readonly name: string) {}
  toJSON(): ['named-uuid', string] {
    return ['named-uuid', this.name];
  }
}

export type Atom = string | number | boolean | Uuid | NamedUuid;

/** A set of atoms: `["set", [...]]`. A one-element set may also travel as the bare atom. */
export class OvsSet<T extends Atom = Atom> {
  constructor(readonly values: readonly T[]) {}
  toJSON(): ['set', readonly T[]] {
    return ['set', this.values];
  }
}

/** A map of atom pairs: `["map", [[k, v], ...]]`. */
export class OvsMap<K extends Atom = Atom, V extends Atom = Atom> {
  constructor(readonly entries: ReadonlyArray<readonly [K, V]>) {}
  toJSON(): ['map', ReadonlyArray<readonly [K, V]>] {
    return ['map', this.entries];
  }
}

export type Datum = Atom | OvsSet | OvsMap;

export const uuid = (u: string): Uuid => new Uuid(u);
export const namedUuid = (n: string): NamedUuid => new NamedUuid(n);
export const set = <T extends Atom>(values: readonly T[]): OvsSet<T> => new OvsSet(values);
/** A map from a plain object, a JS Map or pairs. */
export function map<V extends Atom>(m: Record<string, V> | Map<string, V> | ReadonlyArray<readonly [string, V]>) {
  const entries = m instanceof Map ? [...m] : Array.isArray(m) ? [...m] : Object.entries(m);
  return new OvsMap<string, V>(entries as Array<[string, V]>);
}

/** ovsdb-server names uuid-names with [_a-zA-Z][_a-zA-Z0-9]* (RFC 7047 §5.1 <id>). */
export const UUID_NAME_RE = /^[_a-zA-Z][_a-zA-Z0-9]*$/;
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Decode one wire atom (no schema needed: uuids are tagged). */
export function decodeAtom(v: unknown, field = 'atom'): Atom {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v) && v.length === 2 && typeof v[1] === 'string') {
    if (v[0] === 'uuid') return new Uuid(v[1]);
    if (v[0] === 'named-uuid') return new NamedUuid(v[1]);
  }
  throw new OvsdbProtocolError(field, `not an OVSDB atom: ${JSON.stringify(v)?.slice(0, 80)}`);
}

/** Decode a wire datum into the tagged classes (schema-free; a bare atom stays an atom). */
export function decodeDatum(v: unknown, field = 'datum'): Datum {
  if (Array.isArray(v) && v.length === 2) {
    if (v[0] === 'set') {
      if (!Array.isArray(v[1])) throw new OvsdbProtocolError(field, 'set without an array');
      return new OvsSet(v[1].map((a, i) => decodeAtom(a, `${field}[${i}]`)));
    }
    if (v[0] === 'map') {
      if (!Array.isArray(v[1])) throw new OvsdbProtocolError(field, 'map without an array');
      return new OvsMap(
        v[1].map((p, i) => {
          if (!Array.isArray(p) || p.length !== 2)
            throw new OvsdbProtocolError(`${field}[${i}]`, 'map entry not a pair');
          return [decodeAtom(p[0], `${field}[${i}].key`), decodeAtom(p[1], `${field}[${i}].value`)] as const;
        }),
      );
    }
  }
  return decodeAtom(v, field);
}

/** The atoms of a datum that is a set or a single atom (ovsdb sends 1-element sets bare). */
export function setValues(d: Datum): Atom[] {
  if (d instanceof OvsSet) return [...d.values];
  if (d instanceof OvsMap) throw new OvsdbProtocolError('datum', 'expected a set, got a map');
  return [d];
}

/** Atom → plain JS value: uuids become their string, so rows compare and print easily. */
export function plainAtom(a: Atom): string | number | boolean {
  if (a instanceof Uuid) return a.uuid;
  if (a instanceof NamedUuid) return a.name;
  return a;
}
