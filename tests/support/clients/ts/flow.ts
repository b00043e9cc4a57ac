/**
 * A client's whole session through openapi-fetch, typed by openapi-typescript from
 * schema.snapshot.yaml (blog-api.d.ts, generated beside this file): two users register and sign
 * in, one writes and publishes a post, the other follows, comments and gets the notification;
 * tokens are refreshed and revoked; and the errors a client must handle (400, 401, 403, 404, 429)
 * arrive as the typed error models.
 *
 * Not a test: tests/system/test_typed_clients.py copies this folder, runs `npm ci`, generates the
 * types, checks this file with `tsc --strict` (tsconfig.json) and runs it with node:
 *
 *     node build/flow.js http://127.0.0.1:8000
 *
 * It prints one line per step and exits non-zero at the first surprise.
 *
 * Every schema name the flow uses is named once, in the block below; reading an error body goes
 * through `fieldErrors` and `errorText` alone.
 */
import createClient from "openapi-fetch";
import type { components, paths } from "./blog-api.js";

// --- The generated names: the one place that follows the schema's component names --------------
type Schemas = components["schemas"];
type ValidationErrorBody = Schemas["ErrorResponse400"];
type UnauthorizedBody = Schemas["ErrorResponse401"];
type ForbiddenBody = Schemas["ErrorResponse403"];
type NotFoundBody = Schemas["ErrorResponse404"];
type ThrottledBody = Schemas["ErrorResponse429"];
type User = Schemas["User"];
type TokenPair = Schemas["TokenObtainPair"];
const PUBLISHED_AT_DESC = "-published_at" satisfies NonNullable<
  NonNullable<paths["/api/posts/"]["get"]["parameters"]["query"]>["ordering"]
>[number];

// --- Reading error bodies: the one place that knows the error shape -----------------------------
// Every ErrorResponse<status>: {type, errors: [{code, detail, attr}]}.
type ErrorBody = ValidationErrorBody | UnauthorizedBody | ForbiddenBody | NotFoundBody | ThrottledBody;

function hasErrors(body: unknown, types: readonly string[]): boolean {
  if (typeof body !== "object" || body === null) return false;
  const { type, errors } = body as { type?: unknown; errors?: unknown };
  return (
    typeof type === "string" &&
    types.includes(type) &&
    Array.isArray(errors) &&
    errors.length > 0 &&
    errors.every((item: unknown) => typeof (item as { detail?: unknown } | null)?.detail === "string")
  );
}

const isValidationErrorBody = (body: unknown): body is ValidationErrorBody =>
  hasErrors(body, ["validation_error", "client_error"]);
const isUnauthorizedBody = (body: unknown): body is UnauthorizedBody => hasErrors(body, ["client_error"]);
const isForbiddenBody = (body: unknown): body is ForbiddenBody => hasErrors(body, ["client_error"]);
const isNotFoundBody = (body: unknown): body is NotFoundBody => hasErrors(body, ["client_error"]);
const isThrottledBody = (body: unknown): body is ThrottledBody => hasErrors(body, ["client_error"]);

function fieldErrors(error: ValidationErrorBody): Record<string, string[]> {
  const found: Record<string, string[]> = {};
  for (const item of error.errors) (found[item.attr ?? "non_field_errors"] ??= []).push(item.detail);
  return found;
}

function errorText(error: ErrorBody): string {
  return error.errors.map((item) => item.detail).join(" ");
}

// --- The flow -----------------------------------------------------------------------------------
const PASSWORD = "a-long-enough-password-42";

interface Answer<T, E> {
  data?: T;
  error?: E;
  response: Response;
}

function fail(expected: string, response: Response, body: unknown): never {
  throw new Error(`expected ${expected}, got ${response.status}: ${JSON.stringify(body)}`);
}

async function expectData<T, E>(call: Promise<Answer<T, E>>, status = 200): Promise<T> {
  const { data, error, response } = await call;
  if (response.status !== status || data === undefined) fail(String(status), response, error);
  return data;
}

async function expectError<T, E, B extends E>(
  call: Promise<Answer<T, E>>,
  status: number,
  isModel: (body: E | undefined) => body is B,
): Promise<{ body: B; response: Response }> {
  const { data, error, response } = await call;
  if (response.status !== status || !isModel(error)) fail(`${status} with its error model`, response, error ?? data);
  return { body: error, response };
}

function step(name: string): void {
  console.log(`ok: ${name}`);
}

function assert(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(`assertion failed: ${what}`);
}

async function main(baseUrl: string): Promise<void> {
  const anonymous = createClient<paths>({ baseUrl });
  const signedIn = (access: string) => createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${access}` } });
  const suffix = Math.random().toString(16).slice(2, 10);

  async function registerAndSignIn(name: string): Promise<[User, TokenPair]> {
    const user = await expectData(
      anonymous.POST("/api/auth/register/", {
        body: { username: name, password: PASSWORD, email: `${name}@example.com` },
      }),
      201,
    );
    const tokens = await expectData(
      anonymous.POST("/api/auth/token/", { body: { username: name, password: PASSWORD } }),
    );
    return [user, tokens];
  }

  const [author, authorTokens] = await registerAndSignIn(`ada-${suffix}`);
  const [reader, readerTokens] = await registerAndSignIn(`bob-${suffix}`);
  step("register and sign in");
  const asAuthor = signedIn(authorTokens.access);
  let asReader = signedIn(readerTokens.access);

  const me = await expectData(asReader.GET("/api/me/"));
  assert(me.id === reader.id, "me is the reader");
  // Only an author with a published post can be followed (no account is revealed by its id).
  const introduction = await expectData(
    asAuthor.POST("/api/posts/", { body: { title: "About me", body: "Engines." } }),
    201,
  );
  await expectData(asAuthor.POST("/api/posts/{id}/publish/", { params: { path: { id: introduction.id } } }));
  step("a first post, so that the author can be followed");
  const follow = await expectData(asReader.POST("/api/subscriptions/", { body: { author: author.id } }), 201);
  assert(follow.author === author.id, "following the author");
  step("follow");

  const draft = await expectData(
    asAuthor.POST("/api/posts/", { body: { title: `Notes on the engine ${suffix}`, body: "It weaves patterns." } }),
    201,
  );
  assert(!draft.published && draft.published_at === null, "a draft");
  step("write a draft");
  const published = await expectData(
    asAuthor.POST("/api/posts/{id}/publish/", { params: { path: { id: draft.id } } }),
  );
  assert(published.published && published.published_at !== null, "published, with a date");
  step("publish");

  const page = await expectData(
    anonymous.GET("/api/posts/", { params: { query: { search: suffix, ordering: [PUBLISHED_AT_DESC], page_size: 5 } } }),
  );
  assert(page.results.length === 1 && page.results[0]?.id === draft.id, "the published post is listed");
  step("list posts anonymously (search, ordering, page size)");

  const comment = await expectData(
    asReader.POST("/api/posts/{post_pk}/comments/", { params: { path: { post_pk: draft.id } }, body: { body: "Beautiful." } }),
    201,
  );
  const comments = await expectData(asReader.GET("/api/posts/{post_pk}/comments/", { params: { path: { post_pk: draft.id } } }));
  assert(comments.results.map((c) => c.id).join() === String(comment.id), "the comment is listed");
  step("comment");

  const notifications = await expectData(asReader.GET("/api/notifications/"));
  assert(notifications.results.map((n) => n.post).join() === String(draft.id), "notified of the post");
  step("notification of the followed author's post");

  // --- The errors a client must handle, each parsed as its typed model ---
  const invalid = await expectError(
    asAuthor.POST("/api/posts/", { body: { title: "", body: "No title." } }),
    400,
    isValidationErrorBody,
  );
  assert("title" in fieldErrors(invalid.body), "the 400 names the title");
  step("400 names the invalid field");
  const unauthenticated = await expectError(anonymous.GET("/api/me/"), 401, isUnauthorizedBody);
  assert(errorText(unauthenticated.body).length > 0, "a 401 message");
  assert((unauthenticated.response.headers.get("WWW-Authenticate") ?? "").startsWith("Bearer"), "Bearer challenge");
  step("401 without a token");
  const forbidden = await expectError(
    asReader.PATCH("/api/posts/{id}/", { params: { path: { id: draft.id } }, body: { title: "Mine now" } }),
    403,
    isForbiddenBody,
  );
  assert(errorText(forbidden.body).length > 0, "a 403 message");
  step("403 on someone else's post");
  const missing = await expectError(asReader.GET("/api/posts/{id}/", { params: { path: { id: 999_999_999 } } }), 404, isNotFoundBody);
  assert(errorText(missing.body).length > 0, "a 404 message");
  step("404 for a post that does not exist");

  // --- Tokens: refresh rotates, the old refresh token is refused, logout revokes ---
  const rotated = await expectData(anonymous.POST("/api/auth/token/refresh/", { body: { refresh: readerTokens.refresh } }));
  assert(rotated.refresh !== readerTokens.refresh, "a new refresh token");
  await expectError(anonymous.POST("/api/auth/token/refresh/", { body: { refresh: readerTokens.refresh } }), 401, isUnauthorizedBody);
  step("refresh (the old refresh token is then 401)");
  asReader = signedIn(rotated.access);
  const logout = await asReader.POST("/api/auth/logout/", { body: { refresh: rotated.refresh } });
  assert(logout.response.status === 204, `logout answered ${logout.response.status}`);
  await expectError(anonymous.POST("/api/auth/token/refresh/", { body: { refresh: rotated.refresh } }), 401, isUnauthorizedBody);
  await expectError(asReader.POST("/api/auth/logout/", { body: { refresh: rotated.refresh } }), 401, isUnauthorizedBody);
  step("logout (the refresh token is then 401, to refresh and to logout alike)");

  // --- Last, as it throttles this address's auth calls for a while ---
  for (let attempt = 0; ; attempt++) {
    assert(attempt < 1000, "a 429 within 1000 failed sign-ins");
    const answer = await anonymous.POST("/api/auth/token/", {
      body: { username: `ada-${suffix}`, password: "not-the-password" },
    });
    const response = answer.response;
    if (response.status === 429) {
      const throttled = await expectError(Promise.resolve(answer), 429, isThrottledBody);
      assert(errorText(throttled.body).length > 0 && response.headers.get("Retry-After") !== null, "429 with Retry-After");
      break;
    }
    assert(response.status === 401, `a wrong password answered ${response.status}`);
  }
  step("429 with Retry-After once sign-ins are throttled");
}

const baseUrl = process.argv[2];
if (baseUrl === undefined) throw new Error("usage: node build/flow.js BASE_URL");
await main(baseUrl);
console.log("flow: OK");
