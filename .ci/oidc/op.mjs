// A real OpenID Provider for CI: node oidc-provider with its development
// interactions (any login name signs in; the consent prompt is a button).
// Accounts are their login names; `op-*` are in portal-operators, `admin-*`
// in portal-admins, anyone else in no group. Groups are served as the
// `groups` claim (scope `groups`), from userinfo like OCI IAM's.
import Provider from 'oidc-provider';

export const CLIENT_ID = 'portal-ci';
export const CLIENT_SECRET = 'portal-ci-secret-0123456789';

function groupsOf(id) {
  if (id.startsWith('op-')) return ['portal-operators', 'everyone'];
  if (id.startsWith('admin-')) return ['portal-admins', 'everyone'];
  return ['everyone'];
}

export async function startOp(port, redirectUri, postLogoutUri) {
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uris: [redirectUri],
      post_logout_redirect_uris: postLogoutUri ? [postLogoutUri] : [],
      response_types: ['code'],
      grant_types: ['authorization_code'],
    }],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
      groups: ['groups'],
    },
    scopes: ['openid', 'email', 'profile', 'groups'],
    pkce: { required: () => true },
    cookies: { keys: ['ci-only-cookie-key-0123456789abcdef'] },
    async findAccount(ctx, id) {
      return {
        accountId: id,
        async claims() {
          return {
            sub: id, email: `${id}@example.com`, email_verified: true, name: id, groups: groupsOf(id),
          };
        },
      };
    },
  });
  provider.proxy = false;
  const server = await new Promise((resolve) => {
    const s = provider.listen(port, '127.0.0.1', () => resolve(s));
  });
  return { issuer, close: () => server.close() };
}
