/**
 * Validates custom resources against the openAPIV3Schema their CRD publishes, pinned as data in
 * test/fixtures/crds/ (one file per group/plural/version, with the commit it was copied from).
 *
 * The CRD schemas are structural Kubernetes schemas, not plain JSON Schema, so they are adapted
 * before Ajv sees them; see `toJsonSchema` for what each Kubernetes extension turns into.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";

type SchemaNode = { [keyword: string]: unknown };

interface PinnedCrd {
  source: { repository: string; path: string; commit: string };
  group: string;
  version: string;
  kind: string;
  openAPIV3Schema: SchemaNode;
}

const CRD_DIR = join(__dirname, "..", "fixtures", "crds");

function isObject(value: unknown): value is SchemaNode {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isPinnedCrd(value: unknown): value is PinnedCrd {
  return (
    isObject(value) &&
    isObject(value.source) &&
    typeof value.group === "string" &&
    typeof value.version === "string" &&
    typeof value.kind === "string" &&
    isObject(value.openAPIV3Schema)
  );
}

function loadPinnedCrds(): Map<string, PinnedCrd> {
  const byKey = new Map<string, PinnedCrd>();
  for (const file of readdirSync(CRD_DIR).filter((f) => f.endsWith(".json"))) {
    const crd: unknown = JSON.parse(readFileSync(join(CRD_DIR, file), "utf8"));
    if (!isPinnedCrd(crd)) {
      throw new Error(`${file}: expected source, group, version, kind and openAPIV3Schema`);
    }
    byKey.set(keyOf(`${crd.group}/${crd.version}`, crd.kind), crd);
  }
  return byKey;
}

function keyOf(apiVersion: string, kind: string): string {
  return `${apiVersion} ${kind}`;
}

// The API server implements these formats; anything else in a CRD is ignored there, so it is here.
const KNOWN_FORMATS = new Set(["int32", "int64", "date-time", "byte"]);

/**
 * Turns a structural schema node into JSON Schema with the API server's semantics.
 * `structural` is false inside anyOf/allOf/oneOf/not: there `properties` only constrains values
 * (it declares no fields), so closing objects there would reject valid input.
 */
function toJsonSchema(node: SchemaNode, structural: boolean): SchemaNode {
  const out: SchemaNode = {};
  for (const [keyword, value] of Object.entries(node)) {
    // CEL rules, list/map types and the like are enforced by the server, not expressible here.
    if (keyword.startsWith("x-")) continue;
    if (keyword === "nullable" || keyword === "default" || keyword === "description") continue;
    if (keyword === "format" && !KNOWN_FORMATS.has(String(value))) continue;
    if (keyword === "properties" && isObject(value)) {
      out.properties = Object.fromEntries(
        Object.entries(value).map(([name, sub]) => [
          name,
          isObject(sub) ? toJsonSchema(sub, structural) : sub,
        ]),
      );
    } else if ((keyword === "items" || keyword === "additionalProperties") && isObject(value)) {
      out[keyword] = toJsonSchema(value, structural);
    } else if (["anyOf", "allOf", "oneOf"].includes(keyword) && Array.isArray(value)) {
      out[keyword] = value.map((sub: unknown) => (isObject(sub) ? toJsonSchema(sub, false) : sub));
    } else if (keyword === "not" && isObject(value)) {
      out.not = toJsonSchema(value, false);
    } else {
      out[keyword] = value;
    }
  }

  if (node["x-kubernetes-int-or-string"] === true) {
    out.type = ["integer", "string"];
    // The CRD spells the same thing as anyOf [integer, string]; one type array gives one clear error.
    if (
      Array.isArray(out.anyOf) &&
      out.anyOf.every((s) => isObject(s) && Object.keys(s).join() === "type")
    ) {
      delete out.anyOf;
    }
  }
  if (node.nullable === true && out.type !== undefined) {
    const types: unknown[] = Array.isArray(out.type) ? out.type : [out.type];
    out.type = [...types, "null"];
  }
  const preservesUnknown = node["x-kubernetes-preserve-unknown-fields"] === true;
  // The server silently prunes fields its schema does not declare; rejecting them instead is what
  // `kubectl apply --validate=strict` does, and it is how a misspelled field gets caught.
  if (
    structural &&
    isObject(node.properties) &&
    !preservesUnknown &&
    node.additionalProperties === undefined
  ) {
    out.additionalProperties = false;
  }
  return out;
}

const LABEL_MAP: SchemaNode = { type: "object", additionalProperties: { type: "string" } };

/** The CRD says only `metadata: {type: object}`; ObjectMeta is checked by the API server itself. */
const LOOSE_METADATA: SchemaNode = {
  type: "object",
  required: ["name"],
  properties: {
    name: { type: "string", minLength: 1 },
    namespace: { type: "string" },
    labels: LABEL_MAP,
    annotations: LABEL_MAP,
  },
};

function rootSchema(crd: PinnedCrd): SchemaNode {
  const schema = toJsonSchema(crd.openAPIV3Schema, true);
  const properties = isObject(schema.properties) ? schema.properties : {};
  const required: unknown[] = Array.isArray(schema.required) ? schema.required : [];
  return {
    ...schema,
    properties: {
      ...properties,
      apiVersion: { const: `${crd.group}/${crd.version}` },
      kind: { const: crd.kind },
      metadata: LOOSE_METADATA,
    },
    required: [...new Set(["apiVersion", "kind", "metadata", ...required])],
  };
}

/** Go regexps (RE2) allow a leading `(?i)`, which JavaScript spells as a flag. */
const goRegExp = Object.assign(
  (pattern: string, flags: string) => {
    const caseInsensitive = /^\^?\(\?i\)/.test(pattern);
    if (!caseInsensitive && pattern.includes("(?")) {
      throw new Error(`unsupported RE2 syntax in CRD pattern ${pattern}`);
    }
    const source = caseInsensitive ? pattern.replace("(?i)", "") : pattern;
    return new RegExp(source, caseInsensitive ? `${flags}i` : flags);
  },
  { code: "goRegExp" },
);

const ajv = new Ajv({ strict: false, allErrors: true, code: { regExp: goRegExp } });
ajv.addFormat("int32", {
  type: "number",
  validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31,
});
ajv.addFormat("int64", { type: "number", validate: (n: number) => Number.isInteger(n) });
ajv.addFormat("byte", /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/);
ajv.addFormat(
  "date-time",
  /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/,
);

const pinned = loadPinnedCrds();
const compiled = new Map<string, ValidateFunction>();

function validatorFor(apiVersion: string, kind: string): ValidateFunction {
  const key = keyOf(apiVersion, kind);
  const cached = compiled.get(key);
  if (cached) return cached;
  const crd = pinned.get(key);
  if (!crd) throw new Error(`no pinned CRD schema for ${apiVersion} ${kind}`);
  // Compiled on first use: the ServiceMonitor schema alone is ~65 kB and most tests need one kind.
  const validate = ajv.compile(rootSchema(crd));
  compiled.set(key, validate);
  return validate;
}

/** JSON pointer `/spec/endpoints/0/port` as `spec.endpoints[0].port`. */
function pathOf(pointer: string, child?: string): string {
  const segments = pointer
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
  if (child !== undefined) segments.push(child);
  return (
    segments.map((s, i) => (/^\d+$/.test(s) ? `[${s}]` : i === 0 ? s : `.${s}`)).join("") ||
    "(root)"
  );
}

function describe(error: ErrorObject): string {
  const params: Record<string, unknown> = error.params;
  if (error.keyword === "additionalProperties") {
    const field = pathOf(error.instancePath, String(params.additionalProperty));
    return `${field}: unknown field (not in the CRD schema)`;
  }
  if (error.keyword === "required") {
    const field = pathOf(error.instancePath, String(params.missingProperty));
    return `${field}: required field is missing`;
  }
  const detail =
    error.keyword === "enum" && Array.isArray(params.allowedValues)
      ? ` (${params.allowedValues.join(", ")})`
      : "";
  return `${pathOf(error.instancePath)}: ${error.message ?? error.keyword}${detail}`;
}

/**
 * Throws unless `manifest` is a valid object for the CRD schema pinned for its apiVersion and kind.
 * The error lists every violation as `path: message`.
 */
export function validateCustomResource(manifest: unknown): void {
  if (
    !isObject(manifest) ||
    typeof manifest.apiVersion !== "string" ||
    typeof manifest.kind !== "string"
  ) {
    throw new Error("not a Kubernetes object: apiVersion and kind must be strings");
  }
  const { apiVersion, kind } = manifest;
  const metadata = isObject(manifest.metadata) ? manifest.metadata : {};
  const name = typeof metadata.name === "string" ? metadata.name : "(unnamed)";
  const validate = validatorFor(apiVersion, kind);
  if (validate(manifest)) return;
  const violations = [...new Set((validate.errors ?? []).map(describe))];
  throw new Error(
    `${kind}/${name} (${apiVersion}) violates its pinned CRD schema:\n` +
      violations.map((v) => `  - ${v}`).join("\n"),
  );
}
