// A tenant file (or a directory tree) as auth0-deploy-cli itself reads it (npm `auth0-deploy-cli`, pinned by
// the lockfile beside this file): its YAML context loads the file and the code and HTML
// files it names, as `a0deploy import` does, with `##KEYWORD##` markers left in place.
// Prints the assets as one JSON object, so that a file and an export of a tenant can be
// compared after a0deploy's own normalisation.
//
// Usage: node a0deploy-assets.cjs TENANT.yaml|DIR (NODE_PATH: the node_modules holding it)

const { ManagementClient } = require("auth0");
const YAMLContext = require("auth0-deploy-cli/lib/context/yaml").default;
const DirectoryContext = require("auth0-deploy-cli/lib/context/directory").default;
const fs = require("fs");

async function main() {
  const file = process.argv[2];
  // Loading reads no tenant: the client is never called.
  const client = new ManagementClient({ domain: "unused.example.com", token: "unused" });
  const Context = fs.statSync(file).isDirectory() ? DirectoryContext : YAMLContext;
  const context = new Context({ AUTH0_INPUT_FILE: file, AUTH0_KEYWORD_REPLACE_MAPPINGS: {} }, client);
  await context.loadAssetsFromLocal({ disableKeywordReplacement: true });
  const { exclude, include, ...assets } = context.assets;
  process.stdout.write(JSON.stringify(assets) + "\n");
}

main().catch((e) => {
  process.stderr.write(String(e.stack ?? e) + "\n");
  process.exit(1);
});
