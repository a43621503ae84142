using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Junction.Config;
using Junction.Tests.Capture;
using Junction.Tests.Dispatch.Scenarios;
using Junction.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Junction.Tests.Intake;

/// <summary>
/// Every route that reads a body (from the MapPost/MapGroup mappings: forms, the events API, hooks
/// signed and unsigned, Zoom's URL validation, and the admin posts) fed hostile bytes over a real
/// socket: invalid UTF-8, 10 000 levels of nesting, huge numbers, repeated keys, truncated JSON,
/// wrong content types, nothing. Never a 5xx, never an exception in the log; anonymous and admin
/// routes refuse a malformed body with a 400 naming what was wrong and store nothing.
/// </summary>
public abstract class HostileBodyTests
{
    private const string ZoomSecret = "zoom_secret_token_test_0123";

    protected abstract Task<string> NewStorageAsync();

    /// <summary>What a hostile body is; <c>Names</c> is what a 400 for it must say (null when the body is well-formed JSON).</summary>
    private sealed record Hostile(string Name, byte[] Body, string ContentType, string? Names);

    private static byte[] Bytes(params object[] parts) =>
        [.. parts.SelectMany(p => p is string s ? Encoding.UTF8.GetBytes(s) : (byte[])p)];

    private static readonly string TenThousandDigits = "9" + new string('0', 9_999);

    private static IEnumerable<Hostile> Bodies() =>
    [
        new("invalid UTF-8 in a string", Bytes("""{"type":"optin","subject":{"email":"a""", new byte[] { 0xFF, 0xFE }, """@x.com"},"email":"a@x.com"}"""),
            "application/json", "invalid UTF-8 at byte"),
        new("invalid UTF-8 in a property name", Bytes("""{"em""", new byte[] { 0xC3, 0x28 }, """ail":"a@x.com","type":"optin"}"""),
            "application/json", "invalid UTF-8 at byte"),
        new("Zoom URL validation with invalid UTF-8", Bytes("""{"event":"endpoint.url_validation""", new byte[] { 0xE2, 0x82 }, "\",\"payload\":{\"plainToken\":\"abc\"}}"),
            "application/json", "invalid UTF-8 at byte"),
        new("10 000 levels of nesting", Bytes(new string('[', 10_000), new string(']', 10_000)), "application/json", "nested deeper than 64"),
        new("10 000 levels of objects", Bytes(string.Concat(Enumerable.Repeat("{\"a\":", 10_000)), "1", new string('}', 10_000)),
            "application/json", "nested deeper than 64"),
        new("duplicate key", Bytes("""{"email":"a@x.com","email":"b@x.com","type":"optin"}"""), "application/json", "duplicate key 'email'"),
        new("truncated", Bytes("""{"email":"a@"""), "application/json", "not valid JSON"),
        new("empty", [], "application/json", "empty"),
        new("huge exponent", Bytes("""{"type":"order.paid","subject":{"email":"a@x.com"},"order":{"order_id":"o1","amount":1e999999,"currency":"usd"},"email":"a@x.com","amount":1e999999}"""),
            "application/json", null),
        new("10 000-digit amount", Bytes($$"""{"type":"order.paid","subject":{"email":"a@x.com"},"order":{"order_id":"o1","amount":{{TenThousandDigits}},"currency":"usd"},"ids":[{{TenThousandDigits}}],"email":"a@x.com"}"""),
            "application/json", null),
        new("text/plain", Bytes("""{"email":"a@x.com","type":"optin"}"""), "text/plain", null),
        new("xml", Bytes("<email>a@x.com</email>"), "application/xml", null),
    ];

    private enum Kind
    {
        /// <summary>Anonymous or keyed, reads the body before anything: every hostile body is a 4xx, a malformed one a 400 naming it.</summary>
        Validates,
        /// <summary>Admin route that reads the body: a malformed one is a 400 naming it; others may be accepted.</summary>
        AdminBody,
        /// <summary>Reads no body, or keeps a signed body as sent: anything but a 5xx.</summary>
        Lenient,
    }

    private sealed record Route(string Name, string Path, Kind Kind, Action<HttpRequestMessage, byte[]>? Prepare = null, bool Admin = false,
        bool BodyOptional = false);

    private static IEnumerable<Route> Routes(string personId)
    {
        var stamp = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds();
        return
        [
            new("form (JSON)", $"/v1/forms/{CaptureKit.Landing}", Kind.Validates),
            new("events API", "/v1/events", Kind.Validates, (r, _) => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", CaptureKit.ApiKey)),
            new("hook std unsigned", "/v1/hooks/std", Kind.Validates),
            new("hook zoom unsigned", "/v1/hooks/zoom", Kind.Validates, (r, _) => r.Headers.TryAddWithoutValidation("x-zm-request-timestamp", stamp.ToString(System.Globalization.CultureInfo.InvariantCulture))),
            new("hook std signed", "/v1/hooks/std", Kind.Lenient, (r, body) =>
            {
                var id = "msg_" + Guid.NewGuid().ToString("N");
                r.Headers.TryAddWithoutValidation("webhook-id", id);
                r.Headers.TryAddWithoutValidation("webhook-timestamp", stamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
                r.Headers.TryAddWithoutValidation("webhook-signature", Sign.StandardWebhooks(JunctionServer.StandardSecret, id, stamp, body));
            }),
            new("hook zoom signed", "/v1/hooks/zoom", Kind.Lenient, (r, body) =>
            {
                r.Headers.TryAddWithoutValidation("x-zm-request-timestamp", stamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
                r.Headers.TryAddWithoutValidation("x-zm-signature", Sign.Zoom(ZoomSecret, stamp, body));
            }),
            new("dlq replay", "/v1/dlq/replay", Kind.AdminBody, Admin: true),
            new("pause", $"/v1/destinations/{ScenarioRig.HookId}/pause", Kind.AdminBody, Admin: true, BodyOptional: true),
            new("resume", $"/v1/destinations/{ScenarioRig.HookId}/resume", Kind.Lenient, Admin: true),
            new("override", $"/v1/people/{personId}/overrides", Kind.AdminBody, Admin: true),
            new("quarantine retry", "/v1/quarantine/retry", Kind.Lenient, Admin: true),
            new("quarantine retry one", "/v1/quarantine/raw_none/retry", Kind.Lenient, Admin: true),
            new("audit start", "/v1/audits", Kind.AdminBody, Admin: true, BodyOptional: true),
            new("audit finding accept", "/v1/audits/findings/1/accept", Kind.AdminBody, Admin: true),
        ];
    }

    [Fact]
    public async Task HostileBodies_OnEveryRoute_AreNever5xx_AnonymousAndAdminOnesAre400NamingTheFault_AndNothingIsStored()
    {
        var logs = new CapturedLogs();
        await using var rig = await ScenarioRig.StartAsync(await NewStorageAsync(), logs: logs, configure: c => c with
        {
            Sources = new Dictionary<string, SourceConfig>(c.Sources, StringComparer.Ordinal)
            {
                ["zoom"] = new() { Id = "zoom", Provider = "zoom", Secrets = [ZoomSecret] },
            },
        });
        var server = rig.Server;
        var failures = new List<string>();
        var accepted = new Dictionary<string, int>(StringComparer.Ordinal);

        foreach (var route in Routes("p_does_not_exist"))
        {
            foreach (var hostile in Bodies())
            {
                using var content = new ByteArrayContent(hostile.Body);
                content.Headers.ContentType = MediaTypeHeaderValue.Parse(hostile.ContentType);
                using var request = new HttpRequestMessage(HttpMethod.Post, route.Path) { Content = content };
                route.Prepare?.Invoke(request, hostile.Body);
                using var response = await (route.Admin ? server.Admin : server.Client).SendAsync(request);
                var status = (int)response.StatusCode;
                var text = await response.Content.ReadAsStringAsync();
                var what = $"{route.Name} / {hostile.Name}: {status} {text}";
                if (status >= 500) failures.Add("5xx: " + what);
                var malformedJson = hostile.Names is not null && MediaTypeHeaderValue.Parse(hostile.ContentType).MediaType == "application/json"
                    && !(route.BodyOptional && hostile.Body.Length == 0);
                // A well-formed body with a usable address and a huge number in a field the form does not read is a fine form post.
                if (status is >= 200 and < 300 && route.Kind == Kind.Validates && hostile.Names is null && hostile.ContentType == "application/json")
                {
                    accepted[route.Path] = accepted.GetValueOrDefault(route.Path) + 1;
                    continue;
                }
                var named = malformedJson && status == 400 && JsonDocument.Parse(text).RootElement.GetProperty("detail").GetString()!.Contains(hostile.Names!, StringComparison.Ordinal);
                switch (route.Kind)
                {
                    case Kind.Validates when status is < 400 or >= 500:
                        failures.Add("not refused: " + what);
                        break;
                    case Kind.Validates or Kind.AdminBody when malformedJson && !route.Name.StartsWith("hook", StringComparison.Ordinal) && !named:
                        failures.Add($"not a 400 naming '{hostile.Names}': " + what);
                        break;
                }
            }
        }

        // A form-encoded form with invalid UTF-8 is refused before it is read, too.
        using (var form = new ByteArrayContent(Bytes("email=a", new byte[] { 0xFF }, "%40x.com")))
        {
            form.Headers.ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded");
            using var noRedirects = CaptureKit.NoRedirects(server);
            using var response = await noRedirects.PostAsync($"/v1/forms/{CaptureKit.Landing}", form);
            var text = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != HttpStatusCode.BadRequest || !text.Contains("invalid UTF-8 at byte 7", StringComparison.Ordinal))
            {
                failures.Add($"form-encoded invalid UTF-8: {(int)response.StatusCode} {text}");
            }
        }

        // Hostile query strings on the GET routes.
        foreach (var path in new[]
        {
            "/v1/snippet.js?source=%FF%FE", "/v1/hooks/zoom", "/v1/hooks/%FF", "/v1/people?email=%FF%40x.com", "/v1/people?identifier=%FF",
            "/v1/deliveries?state=%FF", "/v1/events?raw_id=%FF", "/v1/dlq?limit=" + TenThousandDigits, "/v1/raw-events?after=%FF",
        })
        {
            using var response = await server.Admin.GetAsync(path);
            if ((int)response.StatusCode >= 500) failures.Add($"5xx: GET {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));

        // Still healthy and still taking events; nothing refused was stored.
        Assert.Equal(HttpStatusCode.OK, (await server.Client.GetAsync("/healthz")).StatusCode);
        var formsAccepted = accepted.GetValueOrDefault($"/v1/forms/{CaptureKit.Landing}");
        var eventsAccepted = accepted.GetValueOrDefault("/v1/events");
        Assert.Equal(formsAccepted, (await server.AllRawEventsAsync(CaptureKit.Landing)).Count);
        Assert.Equal(eventsAccepted, (await server.AllRawEventsAsync("app")).Count);
        await rig.PostAsync(Junction.Tests.Project.ProjectKit.OptIn("still-up@example.com", "2026-11-01T10:00:00Z"));
        Assert.Equal(eventsAccepted + 1, (await server.AllRawEventsAsync("app")).Count);

        var thrown = logs.Lines.Where(l => l.Exception is not null || l.Level >= LogLevel.Error)
            .Where(l => !l.Category.StartsWith("Junction.Normalize", StringComparison.Ordinal)) // a signed hostile body is the normalizer's to quarantine
            .ToList();
        Assert.True(thrown.Count == 0, "exceptions in the log:\n" + string.Join("\n", thrown));
    }
}

public sealed class SqliteHostileBodyTests : HostileBodyTests
{
    protected override Task<string> NewStorageAsync() => Task.FromResult(TestStorage.NewSqlite());
}

public sealed class PostgresHostileBodyTests : HostileBodyTests
{
    protected override Task<string> NewStorageAsync() => TestStorage.NewPostgresAsync();
}
