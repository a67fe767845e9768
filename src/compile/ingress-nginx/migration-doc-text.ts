/**
 * The hand-written parts of docs/migrating-from-ingress-nginx.md, which migration-doc.ts puts
 * around the tables it renders. Each is Markdown ending in a newline.
 */

/** The introduction: what taking over an installation means, its flags and the ConfigMap. */
export const INTRO = `signalbox can take over an ingress-nginx installation. It reads the same \`networking.k8s.io/v1\`
Ingresses, their \`nginx.ingress.kubernetes.io/*\` annotations and ingress-nginx's controller
ConfigMap, and serves them with ingress-nginx's defaults. This page says how to run it that way,
what each annotation and ConfigMap key becomes, how paths and regular expressions are matched, and
how to cut over with both controllers running. \`signalbox migrate\` gives the same verdicts for your
own manifests, Ingress by Ingress.

## Taking over an ingress-nginx installation

\`\`\`sh
signalbox controller --ingress-class nginx --controller-name k8s.io/ingress-nginx
\`\`\`

With the chart, \`--set ingressNginx.takeOver=true\` gives it these two flags and
\`--nginx-configmap ingress-nginx/ingress-nginx-controller\` (\`ingressNginx.configMap\` names
another, \`ingressNginx.watchIngressWithoutClass\` adds the flag below), and creates no IngressClass:
the \`nginx\` IngressClass is ingress-nginx's, and stays. The chart's ClusterRole already lets it list
and watch ConfigMaps in every namespace, ingress-nginx's included.

- \`--controller-name k8s.io/ingress-nginx\` makes ingress-nginx's IngressClasses (those with
  \`spec.controller: k8s.io/ingress-nginx\`) signalbox's, and selects the **ingress-nginx profile**:
  the defaults of ingress-nginx v1.12–v1.15 with its default ConfigMap (the table below).
  \`--ingress-class nginx\` takes the Ingresses that name their class with the deprecated
  \`kubernetes.io/ingress.class: nginx\` annotation.
- The **controller ConfigMap** is read from \`ingress-nginx/ingress-nginx-controller\`, the name
  ingress-nginx's official chart gives it, and watched like every other object;
  \`--nginx-configmap NAMESPACE/NAME\` names another (\`off\`: none). A ConfigMap of the default name
  that does not exist just means ingress-nginx's defaults; one named by the flag that does not
  exist is a \`NginxConfigMapNotFound\` warning. Keys signalbox does not honour are one
  \`NginxConfigUnsupported\` warning naming them, and a value that does not parse is a
  \`NginxConfigInvalid\` error (its default is kept); nginx internals are ignored silently.
- \`--watch-ingress-without-class\` also takes Ingresses that name no class at all, as ingress-nginx's
  flag of the same name does; without it they are taken only when one of the IngressClasses is the
  default one (\`ingressclass.kubernetes.io/is-default-class: "true"\`).
- **Ingresses of signalbox's own class** (\`signalbox\`, controller \`signalbox.dev/ingress-controller\`)
  may carry the same annotations. They are read the same way, with signalbox's defaults instead
  (the right-hand column below); \`--nginx-configmap\` applies to them too when it is given.
- **Service annotations still apply.** signalbox's own \`signalbox.dev/*\` annotations on a backend
  Service ([annotations.md](annotations.md)) shape its cluster for every route to it; an Ingress's
  backend annotations (\`backend-protocol\`, timeouts, \`load-balance\`, \`upstream-hash-by\`,
  affinity, \`proxy-next-upstream-tries\`, \`proxy-ssl-*\`) win over them for that Ingress's routes,
  which get a cluster of their own.
- \`signalbox migrate --in DIR\` (or \`--cluster\`, straight from the API, read-only) and
  \`signalbox compile --in DIR --controller-name k8s.io/ingress-nginx --ingress-class nginx\` show
  what the controller would do with a set of manifests.
`;

/** How annotations are reported, and the Snippets section. */
export const REPORTS = `How an Ingress's annotations are reported (in \`signalbox compile\` and \`signalbox migrate\`, the log,
\`/debug/table\` and as Kubernetes Events):

- \`supported\` annotations have ingress-nginx's semantics. \`differs\`: honoured, with the difference
  the note names (an \`AnnotationDiffers\` warning each). \`unsupported\`: ignored, and the rest of the
  Ingress is served (one \`AnnotationUnsupported\` warning naming them all). \`not-applicable\`: an nginx
  internal with nothing to set here, ignored without a warning.
- A name ingress-nginx does not have is an \`AnnotationUnknown\` warning (a typo?); a value that does
  not parse is an \`AnnotationInvalid\` error, and that setting keeps its default.
- An annotation whose risk is above \`annotations-risk-level\` refuses the **whole Ingress**
  (\`AnnotationRiskRefused\`, status \`Accepted: False\`), as ingress-nginx's admission refuses it.
- A canary Ingress (\`canary: "true"\`) is read for its \`canary-*\`, \`affinity\`, \`session-cookie-*\`,
  \`load-balance\` and \`upstream-hash-by\` annotations only; it takes everything else from the Ingress
  it is the canary of, and the others are an \`AnnotationIgnored\` warning.

## Snippets

\`configuration-snippet\` and \`server-snippet\` paste raw nginx configuration into the controller's
shared nginx.conf. Anyone allowed to edit an Ingress can then change how the proxy treats every
other tenant's traffic, read what the controller can read (its service account token, every
Secret it caches), or break the configuration for everyone. ingress-nginx has had security advisories
from configuration injected this way (CVE-2021-25742) and through its admission webhook
(CVE-2025-1974), and turns snippet annotations off by default in recent releases.

signalbox never pastes configuration anywhere:

- **Under ingress-nginx's default ConfigMap** (\`allow-snippet-annotations: "false"\`,
  \`annotations-risk-level: High\`) an Ingress with a snippet is **refused whole**
  (\`AnnotationRiskRefused\`), as ingress-nginx refuses it. It is not served without its snippet: a
  snippet dropped in silence could be an access rule dropped in silence.
- **When snippets are allowed** — the ConfigMap sets \`allow-snippet-annotations: "true"\` and
  \`annotations-risk-level: Critical\`, or on signalbox's own class, whose defaults those are — a
  \`configuration-snippet\` or \`server-snippet\` is read, not pasted: only a safe subset of
  directives (request and response headers, redirects, allow and deny) is applied, each as the
  route filter that does the same. A snippet with any other directive, or one that cannot be read,
  refuses the Ingress (\`SnippetUnsupported\`).
- \`auth-snippet\`, \`stream-snippet\` and \`modsecurity-snippet\` are never applied: above the risk
  level they refuse the Ingress like any snippet, and with \`annotations-risk-level: Critical\` they
  are ignored with an \`AnnotationUnsupported\` warning.

RouteScripts cover the other usual reasons for a snippet — routing by a header or cookie, returning
a fixed answer, blocking, throttling — and cannot do the rest, by design: each runs in its own
isolate with a memory limit and a time budget, sees only the requests of the routes it targets in
its own namespace, returns a decision that the proxy validates (an invalid one fails that request
only), and cannot touch the proxy's configuration, files, network or other scripts. A bad script
costs its own routes, never the proxy. What a snippet did beyond that (Lua, nginx variables,
caching) has to move into the app or another component.
`;

/** Paths and regular expressions (the doc comment of ingress-routes.ts, for users). */
export const PATHS = `## Paths and regular expressions

ingress-nginx writes every Ingress path as an nginx \`location\`; signalbox writes the route that
matches the same requests, in the same order:

- **\`Exact\` and \`Prefix\`** are the Ingress API's: \`Prefix\` compares element by element (\`/foo\` takes
  \`/foo\`, \`/foo/\` and \`/foo/bar\`, never \`/foobar\`). With \`strict-validate-path-type\` (on in the
  ingress-nginx profile, as in ingress-nginx since v1.12) such a path may hold only letters, digits
  and \`/ . _ -\`; any other is an \`IngressPathInvalid\` error (a regular expression needs
  \`ImplementationSpecific\`).
- **\`ImplementationSpecific\`** is, in the ingress-nginx profile, nginx's plain prefix location: a
  string prefix, so \`/foo\` takes \`/foobar\`. On signalbox's own class it is \`Prefix\`.
- **Regex hosts.** When any path of a host comes from an Ingress with \`use-regex\` or a
  \`rewrite-target\`, ingress-nginx writes every location of that host as \`~* "^path"\` — so does
  signalbox: each path of the host, of any Ingress, becomes a case-insensitive regular expression
  anchored at the start only, tried longest first (ties: the greater path first, byte-wise). One
  Ingress's \`use-regex\` thus changes how another Ingress's paths on the same host match, in both
  controllers.
- **\`rewrite-target\`** is the path the upstream gets, with \`$1\`..\`$9\` from the path's capture
  groups, and implies \`use-regex\`. Other nginx variables (\`$host\`, \`$request_uri\`) and a query part
  have no equivalent and are an \`AnnotationInvalid\` error. \`x-forwarded-prefix\` is sent with a rewrite.
- **Order** elsewhere: the longest path first, \`Exact\` before \`Prefix\` on a tie, then the older
  Ingress. \`app-root\`'s redirect of \`/\` comes before every path of its host.
- **The redirect to HTTPS and HSTS** make plain HTTP and HTTPS differ, so a host that has either is
  served by one virtual host per listener, every route of it on both.
- **Patterns run on a linear-time engine**, not PCRE: a pattern cannot stall a worker, and a few
  constructs (backreferences, lookahead) are refused with a diagnostic. The anchoring and
  case-insensitivity of \`~*\` are applied by the translation; the rest of the differences are in
  [regular-expressions.md](regular-expressions.md#coming-from-ingress-nginx-pcre-or-the-gateway-api-re2).

Request paths are read as nginx reads them in one respect, and more strictly in others. Repeated
slashes are merged, as with nginx's \`merge_slashes on\` (\`--no-merge-slashes\` turns it off). But
where nginx passes them on, signalbox answers 400 to a path with \`;\`, \`%2F\`, \`%5C\` or a backslash,
which backends read in different ways ([security](security.md#request-targets-paths-and-hosts)).
An app with \`;jsessionid=\` URLs needs \`--allow-path-parameters\`, one with encoded slashes as data
(\`group%2Fproject\`) \`--allow-encoded-slashes\`.
`;

/** Error pages and default backends (the doc comments of default-backend-annotations.ts and ingress-routes.ts, for users). */
export const ERROR_PAGES = `## Error pages and default backends

\`default-backend\`, \`custom-http-errors\` (the annotation and the ConfigMap key) and
\`--default-backend-service\` work as in ingress-nginx:

- **\`default-backend: <Service>\`** names a Service of the Ingress's namespace, taken at its first
  port. A path whose Service has no ready endpoint (or does not exist) sends its requests there,
  unchanged. A \`default-backend\` Service that does not exist, or has no port, is a
  \`DefaultBackendNotFound\` error: the Ingress is served without it.
- **\`custom-http-errors: "404,503"\`** (statuses 400–599; anything else is \`AnnotationInvalid\` and the
  ConfigMap's list applies): an answer with one of these statuses, the upstream's or signalbox's
  own (503 without endpoints, 502 when the upstream cannot be reached, 504), is not sent. Its body
  is dropped and the Ingress's \`default-backend\` — else the global one, \`--default-backend-service\` —
  is asked for \`GET /\` (\`HEAD\` for a HEAD request), with \`X-Code\`, \`X-Format\` (the client's
  \`Accept\`), \`X-Original-URI\`, \`X-Namespace\`, \`X-Ingress-Name\`, \`X-Service-Name\`,
  \`X-Service-Port\` and \`X-Request-ID\`, as ingress-nginx's custom-error-pages backend expects. The
  client gets that answer with the error backend's status (nginx's \`error_page CODE = …\`).
- **The ConfigMap's \`custom-http-errors\`** applies to every path whose Ingress sets no list of its
  own, and its pages come from \`--default-backend-service\` (nginx's server-level \`error_page\`),
  even on an Ingress with a \`default-backend\` — that one then only takes the requests of paths
  without endpoints.
- **When the error backend fails** (no endpoint, refused, too slow, a page over 1 MiB), the client
  gets signalbox's own answer for that failure — 503, 502 or 504 with \`X-Signalbox-Error\` — and no
  second page is fetched, as nginx answers its own error there.

Differences: without \`--default-backend-service\`, ingress-nginx sends the listed errors of Ingresses
without a \`default-backend\` to its built-in backend, which answers 404 to everything; signalbox
leaves them as they are and says so (\`AnnotationMissing\` on the Ingress, \`NginxConfigUnsupported\`
on the ConfigMap). The error backend gets \`GET\` (\`HEAD\` for HEAD), not the client's method, and no body.
With \`disable-proxy-intercept-errors: "true"\` the Ingress's codes replace only signalbox's own
answers, as nginx's own errors still reach \`error_page\` there.
`;

/** The side-by-side cut-over procedure and its rollback. */
export const CUT_OVER = `## Cutting over, side by side

Both controllers run at once, each with its own address, until signalbox has served everything for
a while; rolling back is pointing clients at ingress-nginx again.

1. **Check offline.** Export what the Ingresses use (Secrets are left out on purpose: a missing TLS
   Secret is only a \`TLSSecretNotFound\` diagnostic) and run \`signalbox migrate\` on it:

   \`\`\`sh
   mkdir -p check
   kubectl get ingressclasses -o yaml > check/classes.yaml
   kubectl get ingresses,services,endpointslices -A -o yaml > check/objects.yaml
   kubectl -n ingress-nginx get configmap ingress-nginx-controller -o yaml > check/nginx-configmap.yaml
   signalbox migrate --in check
   \`\`\`

   Or, with a kubeconfig that can list them, \`signalbox migrate --cluster\`: the same report from
   the objects the controller would read, listed once (nothing is written).

   For each Ingress it prints the ingress-nginx annotations it carries with their support and note,
   the diagnostics of its compile, and whether it is served. An Ingress with \`unsupported\`
   annotations is served without them; a refused one (a snippet, by default) is not served at all.
   Decide for each before going on (the tables above say what replaces what); in CI,
   \`--fail-on-unsupported\` exits 1 while any remains.

2. **Run signalbox beside ingress-nginx**, with class \`nginx\` on a second Service of type
   LoadBalancer, and without writing status, so that ingress-nginx's address stays in the
   Ingresses' status (which external-dns and \`kubectl get ingress\` read):

   \`\`\`sh
   helm install signalbox charts/signalbox -n signalbox --create-namespace \\
     --set ingressNginx.takeOver=true,controller.leaderElection.enabled=false
   NGINX=$(kubectl -n ingress-nginx get svc ingress-nginx-controller -o jsonpath='{.status.loadBalancer.ingress[0].ip}')
   SB=$(kubectl -n signalbox get svc signalbox -o jsonpath='{.status.loadBalancer.ingress[0].ip}')
   \`\`\`

   Both controllers now serve every Ingress of class \`nginx\`; clients still reach ingress-nginx.
   To move more carefully than a whole class at once, install signalbox with its own class instead
   and move Ingresses to it one at a time (below).

3. **Compare both** on the same requests before any client moves:

   \`\`\`sh
   for path in / /cart /api/orders; do
     for lb in "$NGINX" "$SB"; do
       curl -s -o /dev/null -w "$lb $path %{http_code} %{size_download} %{redirect_url}\\n" \\
         --resolve shop.example.com:443:"$lb" "https://shop.example.com$path"
     done
   done
   \`\`\`

   A difference is either an annotation listed as \`differs\` or \`unsupported\`, or a routing
   difference; [troubleshooting.md](troubleshooting.md) shows how to tell which.

4. **Move the traffic**: point the DNS name (or the load balancer in front) at signalbox's address.
   Lower the record's TTL a day before. Watch \`signalbox_http_requests_total\` and
   \`signalbox_proxy_errors_total{reason}\` rise on signalbox and the nginx access log go quiet.

5. **Stop ingress-nginx and take over the status** once nothing reaches it. Its admission webhook
   goes with it (with no controller behind it, a webhook that fails closed refuses every Ingress
   change), and the IngressClass and ConfigMap that signalbox still reads are marked to stay when
   its chart is uninstalled: without the class its Ingresses would be no one's, without the
   ConfigMap ingress-nginx's defaults would apply again.

   \`\`\`sh
   helm -n ingress-nginx upgrade ingress-nginx ingress-nginx/ingress-nginx --reuse-values \\
     --set controller.replicaCount=0,controller.autoscaling.enabled=false,controller.admissionWebhooks.enabled=false \\
     --set-string 'controller.ingressClassResource.annotations.helm\\.sh/resource-policy=keep' \\
     --set-string 'controller.configAnnotations.helm\\.sh/resource-policy=keep'
   helm -n signalbox upgrade signalbox charts/signalbox --reuse-values --set controller.leaderElection.enabled=true
   \`\`\`

   signalbox's leader now writes its own address into the Ingresses' status.

6. **Remove ingress-nginx** after a quiet period: \`helm -n ingress-nginx uninstall ingress-nginx\`.
   The \`nginx\` IngressClass and the \`ingress-nginx-controller\` ConfigMap stay.

**Rolling back**: before step 5, point DNS back at \`$NGINX\`; ingress-nginx never stopped serving.
After it, upgrade ingress-nginx with its former \`controller.replicaCount\` and
\`controller.admissionWebhooks.enabled=true\`, upgrade signalbox with
\`controller.leaderElection.enabled=false\`, then point DNS back.

### One Ingress at a time, on signalbox's own class

Install signalbox with its defaults (class \`signalbox\`, not the default class) beside ingress-nginx,
then copy one Ingress at a time with \`spec.ingressClassName: signalbox\`, keeping its annotations.
Each controller sees only its own class, so the copy and the original do not conflict, and the TLS
Secret is shared. Two things change:

- The annotations are read with signalbox's defaults, not ingress-nginx's: no body limit, no
  redirect to HTTPS, no HSTS, snippets applied as their safe subset. Give signalbox
  \`--nginx-configmap ingress-nginx/ingress-nginx-controller\` (with the chart, in
  \`controller.extraArgs\`) to take the ConfigMap's keys over, and
  write on the Ingress what it relied on by default (\`ssl-redirect: "true"\`, \`proxy-body-size: 1m\`).
- Kubernetes' admission fills in the default class on new Ingresses that name none, and refuses
  such Ingresses while two classes are marked default: move the default flag from \`nginx\` to
  \`signalbox\` in one step, at the end. Ingresses created before any default existed have no class
  at all; give them one explicitly before switching.

Check each copy with \`signalbox migrate --in check\` (or \`signalbox compile --in check --fail-on-error\`),
apply it, compare as in step 3 through signalbox's address, move its DNS name, and delete the
original once nothing reaches it.
`;

/** RouteScripts that do what some annotations did (other documents link to these anchors). */
export const ROUTESCRIPT_SNIPPETS = `## RouteScript snippets

Most of what these scripts did on signalbox's own class is now an annotation: \`app-root\`,
\`permanent-redirect\`, \`allowlist-source-range\`, \`proxy-body-size\`, \`enable-cors\`, \`auth-url\`,
\`auth-type: basic\`. They remain the way to do the same under a condition of your own, on any route,
and the way to replace some annotations signalbox does not honour: \`limit-rps\` and \`limit-rpm\` by
the [throttling recipe](routescripts.md#edge-throttling), API keys instead of passwords by the
[API keys recipe](routescripts.md#api-keys-check-strip-inject-the-user), \`denylist-source-range\`
with a rule of its own by the [blocklist recipe](routescripts.md#blocking-bots-and-abusive-clients).

Each is the \`code\` (and any other fields) of a RouteScript whose \`targetRefs\` name the Ingress, one
host or path of it, or the Service; the full form is in [routescripts.md](routescripts.md#spec-fields).
Check each one offline with \`signalbox script test\`.

### Redirects

\`app-root: /app/\`:

\`\`\`js
export function onRequest(req) {
  if (req.path === '/') return { respond: { status: 302, headers: { location: '/app/' } } };
  return null;
}
\`\`\`

\`permanent-redirect\` is the same with \`status: 301\` (or 308) and an absolute \`location\`; target a
single host with \`targetRefs: [{kind: Ingress, name: old-site, host: old.example.com}]\`.

### Allow lists

\`whitelist-source-range\` for single addresses (the blocklist recipe shows CIDR matching):

\`\`\`yaml
  data:
    allow: [192.0.2.10, 192.0.2.11]
  failurePolicy: reject          # a failing script must not open the route
  code: |
    export function onRequest(req, ctx) {
      if (ctx.data.allow.includes(req.clientIp)) return null;
      return { respond: { status: 403, body: 'forbidden\\n' } };
    }
\`\`\`

### Body size

\`\`\`js
const MAX = 8 * 1024 * 1024;
export function onRequest(req) {
  if (Number(req.headers['content-length'] ?? 0) > MAX) {
    return { respond: { status: 413, body: 'request body too large\\n' } };
  }
  return null;
}
\`\`\`

### CORS

Answers preflights for the allowed origins and passes everything else on (\`enable-cors\` also adds
the headers to the app's responses).

\`\`\`js
const ALLOWED = new Set(['https://app.example.com']);
export function onRequest(req) {
  const origin = req.headers.origin;
  if (req.method !== 'OPTIONS' || origin === undefined || !ALLOWED.has(origin)) return null;
  return {
    respond: {
      status: 204,
      headers: {
        'access-control-allow-origin': origin,
        'access-control-allow-methods': 'GET, POST, PUT, DELETE',
        'access-control-allow-headers': 'authorization, content-type',
        'access-control-max-age': '600',
        vary: 'origin',
      },
    },
  };
}
\`\`\`

### External authentication (\`auth-url\`)

\`auth-url\` is supported: as in ingress-nginx, a subrequest with the client's headers goes to the
auth service for every request — or, with \`auth-cache-key\`, once per key for \`auth-cache-duration\`
— 2xx lets it through, a 401 redirects to \`auth-signin\`, \`auth-response-headers\` are copied into
the request and \`auth-proxy-set-headers\` are sent to the service. A RouteScript can do it too,
when a key of the request is enough to decide: \`ctx.lookup(key)\` asks a Service of the same namespace
\`GET <path with the key>\` and gets back the body (200) or \`null\` (404); the script chooses the key —
a session cookie, a bearer token — and decides from the answer:

\`\`\`yaml
  lookup:
    service: {name: sessions, port: {number: 80}}
    path: /sessions/{key}        # 200 with the user name, or 404
    cacheTtlSeconds: 30
    timeoutMs: 100
  limits: {timeoutMs: 300}       # above lookup.timeoutMs: the wait counts against it
  failurePolicy: reject
  code: |
    export async function onRequest(req, ctx) {
      const back = encodeURIComponent(\`https://\${req.host}\${req.path}\`);
      const signIn = { respond: { status: 302, headers: { location: \`https://login.example.com/?rd=\${back}\` } } };
      const session = req.cookies.session;
      if (session === undefined) return signIn;
      let user;
      try {
        user = await ctx.lookup(session);
      } catch (err) {
        ctx.log('session service:', err.message);
        return { respond: { status: 503, headers: { 'retry-after': '1' }, body: 'sign-in unavailable\\n' } };
      }
      if (user === null) return signIn;
      return { setHeaders: { 'x-user': user } };
    }
\`\`\`

\`\`\`console
$ signalbox script test external-auth.yaml --lookup s-1=alice --request '{"headers":{"cookie":"session=s-1"},"path":"/cart"}' \\
    --request '{"headers":{"cookie":"session=s-2"},"host":"shop.example.com","path":"/cart"}' 2>/dev/null
#1 GET example.com/cart -> setHeaders={"x-user":"alice"}  (1.50 ms)
#2 GET shop.example.com/cart -> respond 302 headers={"location":"https://login.example.com/?rd=https%3A%2F%2Fshop.example.com%2Fcart"}  (0.20 ms)
\`\`\`

What it can do: any key the script derives from the request; several headers from one answer (return
JSON from the service and \`JSON.parse\` it); a sign-in redirect, a 401 or a 403 as the script likes;
far fewer calls than \`auth-url\` without \`auth-cache-key\`, since answers are cached per key.

What it cannot do:

- send the client's headers, method or URL to the auth service: only the key, inside the path (so the
  key appears in that service's access log);
- read any status but 200 and 404 (others, timeouts and network errors reject), or response headers;
- reach a service outside the namespace, or over HTTPS;
- see a revoked session at once: a found answer is cached for \`cacheTtlSeconds\` and "not found" for up
  to 5 s, in each worker thread of each replica;
- wait longer than 1 s (\`lookup.timeoutMs\` is at most 1000, the script's budget too).

For OAuth2/OIDC flows, put an authenticating proxy (such as oauth2-proxy) in front of the app as its
backend Service instead.
`;
