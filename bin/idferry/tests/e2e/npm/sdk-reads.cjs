// The official Node SDK (npm `auth0`, pinned by the lockfile beside this file) reads an
// emulated tenant as a user's script would: every resource client's `list()` that needs
// no id, followed through all its pages by the SDK's own paging, and every `get()` that
// needs none (a singleton), walking the client's resources two levels down. Prints one
// JSON object: {"calls": [{"call": "clients.list", "items": 9} | {"call", "ok": true} |
// {"call", "status", "url", "error"}]}.
//
// AUTH0_DOMAIN (host:port) and AUTH0_TOKEN name the tenant; NODE_EXTRA_CA_CERTS its
// certificate; NODE_PATH the node_modules holding the SDK.

const { ManagementClient } = require("auth0");

const client = new ManagementClient({
  domain: process.env.AUTH0_DOMAIN,
  token: process.env.AUTH0_TOKEN,
});

/** The getters of `object`'s classes (up its prototype chain): its resource clients. */
function resources(object) {
  const names = new Set();
  for (let proto = Object.getPrototypeOf(object); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const [name, d] of Object.entries(Object.getOwnPropertyDescriptors(proto))) {
      if (typeof d.get === "function" && !name.startsWith("_")) names.add(name);
    }
  }
  return [...names];
}

/** How many items a list answer holds, following its pages. */
async function count(answer) {
  if (answer && typeof answer[Symbol.asyncIterator] === "function") {
    let n = 0;
    for await (const _ of answer) n += 1;
    return n;
  }
  if (Array.isArray(answer)) return answer.length;
  // An object holding one list (`{providers: [...]}`).
  const lists = Object.values(answer ?? {}).filter(Array.isArray);
  return lists.length === 1 ? lists[0].length : null;
}

/** Whether `f` needs no id: its parameters are only the request and its options. */
function needsNoId(f) {
  const params = /^[^(]*\(([^)]*)\)/.exec(f.toString());
  if (!params) return false;
  return params[1]
    .split(",")
    .map((p) => p.trim().split(/[\s=]/)[0])
    .every((p) => p === "" || p === "request" || p === "requestOptions");
}

async function main() {
  const calls = [];
  const walk = async (object, path, depth) => {
    for (const name of resources(object)) {
      let resource;
      try {
        resource = object[name];
      } catch {
        continue;
      }
      if (!resource || typeof resource !== "object") continue;
      const at = path ? `${path}.${name}` : name;
      for (const method of ["list", "get"]) {
        const f = resource[method];
        if (typeof f !== "function" || !needsNoId(f)) continue;
        const call = `${at}.${method}`;
        try {
          const answer = await f.call(resource);
          if (method === "list") {
            calls.push({ call, items: await count(answer) });
          } else {
            calls.push({ call, ok: true });
          }
        } catch (e) {
          calls.push({
            call,
            status: e.statusCode ?? null,
            url: e.rawResponse?.url ?? null,
            error: String(e.message ?? e).slice(0, 300),
          });
        }
      }
      if (depth < 2) await walk(resource, at, depth + 1);
    }
  };
  await walk(client, "", 0);
  process.stdout.write(JSON.stringify({ calls }) + "\n");
}

main().catch((e) => {
  process.stderr.write(String(e.stack ?? e) + "\n");
  process.exit(1);
});
