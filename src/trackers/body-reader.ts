/**
 * @module trackers/body-reader
 * Typed reading of JSON request bodies for the configuration APIs (trackers, notifications, tags).
 * A reader checks the JSON type of one known field at a time and reports a wrong type through the
 * caller's `fail` function, with a message naming the field path and saying what was got and what
 * was wanted (`obs_info.is_obs_created must be a boolean, got string "yes"`).
 *
 * Conventions shared by every API that uses it: JSON `null` counts as an absent field; unknown
 * fields are ignored (as CTS does); only own properties are read (`__proto__` is never a field).
 */

/** A parsed JSON object. */
export type JsonObject = { readonly [key: string]: unknown }

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A short description of a JSON value for got/want messages: `string "yes"`, `number 5`, `array`. */
export function describeJson(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  switch (typeof value) {
    case 'string': {
      const shown = value.length > 64 ? `${value.slice(0, 64)}…` : value
      return `string ${JSON.stringify(shown)}`
    }
    case 'number':
    case 'boolean':
      return `${typeof value} ${String(value)}`
    case 'object':
      return 'object'
    default:
      return typeof value
  }
}

/**
 * Drops the keys whose value is `undefined`, so that an object built from optional reads fits a type
 * with optional properties under `exactOptionalPropertyTypes`.
 */
export function omitUndefined<T extends object>(value: { [K in keyof T]: T[K] | undefined }): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
}

/** Reads the fields of one JSON object; every wrong type ends in `fail(message)`. */
export class BodyReader {
  readonly #object: JsonObject
  readonly #path: string
  readonly #fail: (message: string) => never

  /**
   * @param object the JSON object to read
   * @param path its path in the body (`''` for the body itself, `obs_info`, `operations[2]`)
   * @param fail throws the caller's error for a message; never returns
   */
  constructor(object: JsonObject, path: string, fail: (message: string) => never) {
    this.#object = object
    this.#path = path
    this.#fail = fail
  }

  /** The path of a field of this object, as used in messages. */
  pathOf(key: string): string {
    return this.#path === '' ? key : `${this.#path}.${key}`
  }

  /** Fails with `<path> <message>`. */
  fail(key: string, message: string): never {
    return this.#fail(`${this.pathOf(key)} ${message}`)
  }

  /** The raw value of an own field; `undefined` when absent or null. */
  raw(key: string): unknown {
    if (!Object.hasOwn(this.#object, key)) return undefined
    const value = this.#object[key]
    return value === null ? undefined : value
  }

  /** True when the field is present and not null. */
  has(key: string): boolean {
    return this.raw(key) !== undefined
  }

  #wrong(key: string, want: string, got: unknown): never {
    return this.fail(key, `must be ${want}, got ${describeJson(got)}`)
  }

  string(key: string): string | undefined {
    const value = this.raw(key)
    if (value === undefined || typeof value === 'string') return value
    return this.#wrong(key, 'a string', value)
  }

  boolean(key: string): boolean | undefined {
    const value = this.raw(key)
    if (value === undefined || typeof value === 'boolean') return value
    return this.#wrong(key, 'a boolean', value)
  }

  /** A JSON number that is an integer. */
  integer(key: string): number | undefined {
    const value = this.raw(key)
    if (value === undefined || (typeof value === 'number' && Number.isInteger(value))) return value
    return this.#wrong(key, 'an integer', value)
  }

  /** A nested object, as a reader whose messages carry the nested path. */
  object(key: string): BodyReader | undefined {
    const value = this.raw(key)
    if (value === undefined) return undefined
    if (!isJsonObject(value)) return this.#wrong(key, 'an object', value)
    return new BodyReader(value, this.pathOf(key), this.#fail)
  }

  array(key: string): readonly unknown[] | undefined {
    const value = this.raw(key)
    if (value === undefined || Array.isArray(value)) return value as readonly unknown[] | undefined
    return this.#wrong(key, 'an array', value)
  }

  /** An array whose items are all strings. */
  stringArray(key: string): string[] | undefined {
    const items = this.array(key)
    if (items === undefined) return undefined
    return items.map((item, index) => {
      if (typeof item === 'string') return item
      return this.#fail(`${this.pathOf(key)}[${index}] must be a string, got ${describeJson(item)}`)
    })
  }

  /** An array whose items are all objects, as readers. */
  objectArray(key: string): BodyReader[] | undefined {
    const items = this.array(key)
    if (items === undefined) return undefined
    return items.map((item, index) => {
      const path = `${this.pathOf(key)}[${index}]`
      if (isJsonObject(item)) return new BodyReader(item, path, this.#fail)
      return this.#fail(`${path} must be an object, got ${describeJson(item)}`)
    })
  }
}
