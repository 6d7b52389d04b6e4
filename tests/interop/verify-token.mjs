// Validates a platform access token with the `jose` library, using nothing but the issuer's published
// discovery document and JWKS — exactly what a client outside .NET has.
// Usage: node verify-token.mjs <issuer> <access-token>; prints the verified claims as JSON, exits 1 on failure.
import { createRemoteJWKSet, jwtVerify } from 'jose';

const [issuer, token] = process.argv.slice(2);
if (!issuer || !token) {
  console.error('usage: node verify-token.mjs <issuer> <access-token>');
  process.exit(2);
}

try {
  const response = await fetch(new URL('/.well-known/openid-configuration', issuer));
  if (!response.ok) throw new Error(`discovery document: HTTP ${response.status}`);
  const discovery = await response.json();
  if (discovery.issuer !== issuer) throw new Error(`discovery issuer ${discovery.issuer} != ${issuer}`);

  const keys = createRemoteJWKSet(new URL(discovery.jwks_uri));
  const { payload, protectedHeader } = await jwtVerify(token, keys, {
    issuer: discovery.issuer,
    audience: 'agentplatform',
    algorithms: ['RS256'],
    typ: 'at+jwt',
  });
  console.log(JSON.stringify({ header: protectedHeader, claims: payload }));
} catch (error) {
  console.error(`invalid: ${error.code ?? ''} ${error.message}`);
  process.exit(1);
}
