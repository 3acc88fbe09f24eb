// Loaded into auth0-deploy-cli by the e2e tests (node --require): the emulated tenants
// answer plain HTTP on 127.0.0.1, while the Auth0 SDK always builds https:// URLs from a
// domain. Only the scheme of requests to 127.0.0.1 is changed; nothing else is touched.
const realFetch = globalThis.fetch;
const toHttp = (url) => url.replace(/^https:\/\/127\.0\.0\.1:/, 'http://127.0.0.1:');
globalThis.fetch = (input, init) => {
  if (typeof input === 'string') return realFetch(toHttp(input), init);
  if (input instanceof URL) return realFetch(toHttp(input.href), init);
  return realFetch(new Request(toHttp(input.url), input), init);
};
